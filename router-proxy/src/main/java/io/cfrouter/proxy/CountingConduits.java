package io.cfrouter.proxy;

import org.xnio.channels.StreamSinkChannel;
import org.xnio.channels.StreamSourceChannel;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.StreamSourceConduit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Conduits that tell a request how many bytes went through them and whether the peer failed: the request
 * body and the response on the client side, and both directions of an upgraded or tunnelled connection.
 * Each lives on the I/O thread of its request, so the counts need no locking.
 */
final class CountingConduits {

    private CountingConduits() {
    }

    /** What a client sends through a raw tunnel, read from its connection: the request's bytes. */
    static StreamSourceConduit fromClient(StreamSourceConduit next, ProxiedRequest request) {
        return new Source(next) {
            @Override
            void counted(long result) {
                if (result > 0) {
                    request.requestBytes += result;
                }
            }
        };
    }

    /** What goes to the backend of an upgraded connection, as it is written: the request's bytes. */
    static StreamSinkConduit toBackend(StreamSinkConduit next, ProxiedRequest request) {
        return new Sink(next) {
            @Override
            void counted(long written) {
                request.requestBytes += written;
            }
        };
    }

    /** What the backend of an upgraded or tunnelled connection sends, as it is read: the response's bytes. */
    static StreamSourceConduit fromBackend(StreamSourceConduit next, ProxiedRequest request) {
        return new Source(next) {
            @Override
            void counted(long result) {
                if (result > 0) {
                    request.tunnelResponseBytes += result;
                }
            }
        };
    }

    /** Counts what is read; {@link #counted} sees every result, -1 at the end of the stream included. */
    abstract static class Source extends AbstractStreamSourceConduit<StreamSourceConduit> {

        Source(StreamSourceConduit next) {
            super(next);
        }

        /** The result of one read: bytes read, 0, or -1 at the end of the stream. */
        abstract void counted(long result);

        /** A read failed; returns the exception to throw. */
        IOException failed(IOException e) {
            return e;
        }

        private long count(long result) {
            counted(result);
            return result;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            try {
                return (int) count(next.read(dst));
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
            try {
                return count(next.read(dsts, offs, len));
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public long transferTo(long position, long count, FileChannel target) throws IOException {
            try {
                return count(next.transferTo(position, count, target));
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target)
                throws IOException {
            try {
                // Bytes left in throughBuffer were read too, though not yet written on.
                long written = next.transferTo(count, throughBuffer, target);
                counted(written < 0 ? written : written + throughBuffer.remaining());
                return written;
            } catch (IOException e) {
                throw failed(e);
            }
        }
    }

    /** Counts what is written. */
    abstract static class Sink extends AbstractStreamSinkConduit<StreamSinkConduit> {

        Sink(StreamSinkConduit next) {
            super(next);
        }

        /** Bytes accepted by one write. */
        abstract void counted(long written);

        /** A write or flush failed; returns the exception to throw. */
        IOException failed(IOException e) {
            return e;
        }

        private long count(long written) {
            if (written > 0) {
                counted(written);
            }
            return written;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            try {
                return (int) count(next.write(src));
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public long write(ByteBuffer[] srcs, int offs, int len) throws IOException {
            try {
                return count(next.write(srcs, offs, len));
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public int writeFinal(ByteBuffer src) throws IOException {
            try {
                return (int) count(next.writeFinal(src));
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public long writeFinal(ByteBuffer[] srcs, int offs, int len) throws IOException {
            try {
                return count(next.writeFinal(srcs, offs, len));
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public long transferFrom(FileChannel src, long position, long count) throws IOException {
            try {
                return count(next.transferFrom(src, position, count));
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public long transferFrom(StreamSourceChannel source, long count, ByteBuffer throughBuffer)
                throws IOException {
            try {
                // What is left in throughBuffer was read but not written: not counted yet.
                return count(next.transferFrom(source, count, throughBuffer));
            } catch (IOException e) {
                throw failed(e);
            }
        }

        @Override
        public boolean flush() throws IOException {
            try {
                return next.flush();
            } catch (IOException e) {
                throw failed(e);
            }
        }
    }
}
