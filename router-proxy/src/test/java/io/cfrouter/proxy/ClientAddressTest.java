package io.cfrouter.proxy;

import io.undertow.util.AbstractAttachable;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** The client's address, formatted once per connection and again only when it changes. */
class ClientAddressTest {

    /** Stands in for the connection the formatted address is kept on. */
    private final AbstractAttachable connection = new AbstractAttachable() { };

    @Test
    void shouldFormatOnceForEqualAddressesThatAreNewObjects() {
        // XNIO gives the peer address as a new object on every call: equal, not the same.
        ClientAddress first = ClientAddress.of(new InetSocketAddress("10.0.0.7", 51000), connection);
        ClientAddress second = ClientAddress.of(new InetSocketAddress("10.0.0.7", 51000), connection);

        assertThat(first.ip()).isEqualTo("10.0.0.7");
        assertThat(first.ipAndPort()).isEqualTo("10.0.0.7:51000");
        assertThat(second).isSameAs(first);
    }

    @Test
    void shouldFormatAgainWhenTheAddressChanges() {
        ClientAddress first = ClientAddress.of(new InetSocketAddress("10.0.0.7", 51000), connection);
        ClientAddress otherPort = ClientAddress.of(new InetSocketAddress("10.0.0.7", 51001), connection);
        ClientAddress v6 = ClientAddress.of(new InetSocketAddress("::1", 51001), connection);

        assertThat(otherPort).isNotSameAs(first);
        assertThat(otherPort.ipAndPort()).isEqualTo("10.0.0.7:51001");
        assertThat(v6.ip()).isEqualTo("0:0:0:0:0:0:0:1");
        assertThat(v6.ipAndPort()).isEqualTo("[0:0:0:0:0:0:0:1]:51001");
        assertThat(ClientAddress.of(null, connection).ipAndPort()).isEmpty();
    }
}
