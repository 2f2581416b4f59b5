package io.cfrouter.proxy;

import io.undertow.channels.DetachableStreamSourceChannel;
import io.undertow.client.ClientCallback;
import io.undertow.client.ClientConnection;
import io.undertow.client.ClientExchange;
import io.undertow.client.ClientRequest;
import io.undertow.client.ClientResponse;
import io.undertow.client.ContinueNotification;
import io.undertow.client.PushCallback;
import io.undertow.util.AttachmentKey;
import io.undertow.util.AttachmentList;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;

/**
 * A backend exchange that tells the request when the response headers arrive (or never will), and when the
 * response body breaks off.
 */
final class BackendExchange implements ClientExchange {

    private final ClientExchange delegate;
    private final ProxiedRequest request;
    private final BackendConnection connection;

    BackendExchange(ClientExchange delegate, ProxiedRequest request, BackendConnection connection) {
        this.delegate = delegate;
        this.request = request;
        this.connection = connection;
    }

    @Override
    public void setResponseListener(ClientCallback<ClientExchange> responseListener) {
        delegate.setResponseListener(new ClientCallback<>() {
            @Override
            public void completed(ClientExchange result) {
                request.handler.onResponseHeaders(request, result.getResponse());
                responseListener.completed(BackendExchange.this);
            }

            @Override
            public void failed(IOException e) {
                request.responseFailed();
                responseListener.failed(e);
            }
        });
    }

    @Override
    public void setContinueHandler(ContinueNotification continueHandler) {
        delegate.setContinueHandler(continueHandler);
    }

    @Override
    public void setPushHandler(PushCallback pushCallback) {
        delegate.setPushHandler(pushCallback);
    }

    @Override
    public StreamSinkChannel getRequestChannel() {
        return delegate.getRequestChannel();
    }

    @Override
    public StreamSourceChannel getResponseChannel() {
        return new WatchedResponse(delegate.getResponseChannel(), request);
    }

    /**
     * The backend's response body as Undertow relays it: a read that fails (reset, premature end of a
     * {@code Content-Length} or chunked body) is the endpoint's failure, told to the request.
     */
    private static final class WatchedResponse extends DetachableStreamSourceChannel {
        private final ProxiedRequest request;

        WatchedResponse(StreamSourceChannel delegate, ProxiedRequest request) {
            super(delegate);
            this.request = request;
        }

        @Override
        protected boolean isFinished() {
            return false; // the delegate keeps its own state
        }

        private IOException failed(IOException e) {
            request.responseBodyFailed();
            return e;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            try {
                return super.read(dst);
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            try {
                return super.read(dsts, offset, length);
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public long read(ByteBuffer[] dsts) throws IOException {
            return read(dsts, 0, dsts.length);
        }

        @Override
        public long transferTo(long position, long count, FileChannel target) throws IOException {
            try {
                return super.transferTo(position, count, target);
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
            try {
                return super.transferTo(count, throughBuffer, target);
            } catch (IOException e) {
                throw failed(e);
            }
        }
    }

    @Override
    public ClientRequest getRequest() {
        return delegate.getRequest();
    }

    @Override
    public ClientResponse getResponse() {
        return delegate.getResponse();
    }

    @Override
    public ClientResponse getContinueResponse() {
        return delegate.getContinueResponse();
    }

    /** The request's view of the connection: Undertow's proxy upgrades it through this. */
    @Override
    public ClientConnection getConnection() {
        return connection;
    }

    @Override
    public <T> T getAttachment(AttachmentKey<T> key) {
        return delegate.getAttachment(key);
    }

    @Override
    public <T> List<T> getAttachmentList(AttachmentKey<? extends List<T>> key) {
        return delegate.getAttachmentList(key);
    }

    @Override
    public <T> T putAttachment(AttachmentKey<T> key, T value) {
        return delegate.putAttachment(key, value);
    }

    @Override
    public <T> T removeAttachment(AttachmentKey<T> key) {
        return delegate.removeAttachment(key);
    }

    @Override
    public <T> void addToAttachmentList(AttachmentKey<AttachmentList<T>> key, T value) {
        delegate.addToAttachmentList(key, value);
    }
}
