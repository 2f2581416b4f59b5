package io.cfrouter.proxy;

import io.undertow.connector.PooledByteBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ThreadBufferPoolTest {

    private final ThreadBufferPool pool = new ThreadBufferPool(1024, true);

    @Test
    void shouldReuseAReleasedBufferClearedOnTheSameThread() {
        PooledByteBuffer first = pool.allocate();
        ByteBuffer b = first.getBuffer();
        assertThat(b.isDirect()).isTrue();
        assertThat(b.capacity()).isEqualTo(1024);
        b.put((byte) 1).flip();
        first.close();
        first.close(); // twice is harmless
        assertThat(first.isOpen()).isFalse();
        assertThatThrownBy(first::getBuffer).isInstanceOf(IllegalStateException.class);

        PooledByteBuffer second = pool.allocate();
        assertThat(second.getBuffer()).isSameAs(b);
        assertThat(second.getBuffer().position()).isZero();
        assertThat(second.getBuffer().limit()).isEqualTo(1024);
    }

    @Test
    void shouldKeepAtMostItsLimitPerThreadAndNotShareBetweenThreads() throws Exception {
        List<PooledByteBuffer> taken = new ArrayList<>();
        for (int i = 0; i < ThreadBufferPool.MAX_FREE + 10; i++) {
            taken.add(pool.allocate());
        }
        List<ByteBuffer> buffers = taken.stream().map(PooledByteBuffer::getBuffer).toList();
        taken.forEach(PooledByteBuffer::close);
        ByteBuffer elsewhere = CompletableFuture.supplyAsync(() -> pool.allocate().getBuffer()).get();
        // identity, not ByteBuffer.equals (which compares contents)
        assertThat(buffers.stream().noneMatch(b -> b == elsewhere)).as("another thread's free buffers are its own")
                .isTrue();
        int reused = 0;
        for (int i = 0; i < ThreadBufferPool.MAX_FREE + 10; i++) {
            ByteBuffer b = pool.allocate().getBuffer();
            if (buffers.stream().anyMatch(x -> x == b)) {
                reused++;
            }
        }
        assertThat(reused).isEqualTo(ThreadBufferPool.MAX_FREE);
    }

    @Test
    void shouldOfferAnArrayBackedPoolOfTheSameSize() {
        assertThat(pool.getArrayBackedPool().isDirect()).isFalse();
        assertThat(pool.getArrayBackedPool().allocate().getBuffer().hasArray()).isTrue();
        assertThat(pool.getArrayBackedPool().getBufferSize()).isEqualTo(1024);
        assertThat(pool.getArrayBackedPool()).isSameAs(pool.getArrayBackedPool());
    }
}
