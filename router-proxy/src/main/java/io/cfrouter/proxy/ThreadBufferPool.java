package io.cfrouter.proxy;

import io.cfrouter.core.PerThread;
import io.undertow.connector.ByteBufferPool;
import io.undertow.connector.PooledByteBuffer;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The proxy listener's buffer pool: free buffers on a plain stack per thread. Undertow's
 * {@code DefaultByteBufferPool} finds the calling thread's cache in a synchronised {@code WeakHashMap} on
 * every allocation and release (about 6 % of the router's CPU under load); here it is one
 * {@link PerThread} read. A buffer released on another thread than the one that took it joins that
 * thread's stack. At most {@value #MAX_FREE} free buffers per thread are kept; the others are left to the
 * garbage collector.
 */
final class ThreadBufferPool implements ByteBufferPool {

    static final int MAX_FREE = 64;

    private final int size;
    private final boolean direct;
    private final PerThread<ArrayDeque<ByteBuffer>> free = PerThread.withInitial(ArrayDeque::new);
    private ThreadBufferPool arrayBacked;

    /** Undertow's default for heaps of 128 MiB and more: direct buffers of 16 KiB less room for headers. */
    ThreadBufferPool() {
        this(16 * 1024 - 20, true);
    }

    ThreadBufferPool(int size, boolean direct) {
        this.size = size;
        this.direct = direct;
    }

    @Override
    public PooledByteBuffer allocate() {
        ByteBuffer b = free.get().pollLast();
        if (b == null) {
            b = direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
        } else {
            b.clear();
        }
        return new Pooled(b);
    }

    @Override
    public synchronized ByteBufferPool getArrayBackedPool() {
        if (!direct) {
            return this;
        }
        if (arrayBacked == null) {
            arrayBacked = new ThreadBufferPool(size, false);
        }
        return arrayBacked;
    }

    @Override
    public void close() {
        // nothing held but free buffers, which the garbage collector frees
    }

    @Override
    public int getBufferSize() {
        return size;
    }

    @Override
    public boolean isDirect() {
        return direct;
    }

    private final class Pooled implements PooledByteBuffer {
        private ByteBuffer buffer;

        Pooled(ByteBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public ByteBuffer getBuffer() {
            ByteBuffer b = buffer;
            if (b == null) {
                throw new IllegalStateException("buffer already released");
            }
            return b;
        }

        @Override
        public void close() {
            ByteBuffer b = buffer;
            if (b == null) {
                return;
            }
            buffer = null;
            ArrayDeque<ByteBuffer> stack = free.get();
            if (stack.size() < MAX_FREE) {
                stack.addLast(b);
            }
        }

        @Override
        public boolean isOpen() {
            return buffer != null;
        }
    }
}
