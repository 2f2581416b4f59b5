package io.cfrouter.app;

import io.cfrouter.core.RequestRecord;
import io.cfrouter.testsupport.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AccessLogWriterTest {

    private static final long START = Instant.parse("2026-11-28T04:02:50.453Z").toEpochMilli();

    @TempDir
    Path dir;

    private static RequestRecord record(String uri, int status) {
        return new RequestRecord("app.example.com", START, "GET", uri, "HTTP/1.1", status, 12, 5,
                "https://ref.example.com/", "curl/8.5.0", "10.0.0.9:51234", "10.0.16.7:61001", "10.0.0.9, 10.0.0.1",
                "https", "9a7f7c3e-1b2a-4c1d-8e9f-0a1b2c3d4e5f", 4_217_400L, "app-guid", "0", "instance-1", "api", "");
    }

    private static String line(RequestRecord r) {
        StringBuilder out = new StringBuilder();
        AccessLogWriter.format(r, out);
        return out.toString();
    }

    @Test
    void shouldFormatTheLineOfTheBehaviourReference() {
        assertThat(line(record("/hi?x=1", 200))).isEqualTo("app.example.com - [2026-11-28T04:02:50.453Z] "
                + "\"GET /hi?x=1 HTTP/1.1\" 200 12 5 \"https://ref.example.com/\" \"curl/8.5.0\" \"10.0.0.9:51234\" "
                + "\"10.0.16.7:61001\" x_forwarded_for:\"10.0.0.9, 10.0.0.1\" x_forwarded_proto:\"https\" "
                + "vcap_request_id:\"9a7f7c3e-1b2a-4c1d-8e9f-0a1b2c3d4e5f\" response_time:0.004217 "
                + "app_id:\"app-guid\" app_index:\"0\" instance_id:\"instance-1\" x_cf_routererror:\"-\"");
    }

    @Test
    void shouldPrintMissingValuesAsDash() {
        RequestRecord r = new RequestRecord("", START, "GET", "/", "HTTP/1.1", 404, 0, 66, "", "", "10.0.0.9:51234",
                "", "", "", "", 1_000_000_000L, "", "", "", "", "unknown_route");

        assertThat(line(r)).isEqualTo("- - [2026-11-28T04:02:50.453Z] \"GET / HTTP/1.1\" 404 0 66 \"-\" \"-\" "
                + "\"10.0.0.9:51234\" \"-\" x_forwarded_for:\"-\" x_forwarded_proto:\"-\" vcap_request_id:\"-\" "
                + "response_time:1.000000 app_id:\"-\" app_index:\"-\" instance_id:\"-\" "
                + "x_cf_routererror:\"unknown_route\"");
    }

    @Test
    void shouldRoundTheResponseTimeToTheMicrosecond() {
        RequestRecord base = record("/", 200);
        RequestRecord slow = new RequestRecord(base.host(), START, "GET", "/", "HTTP/1.1", 200, 0, 0, "", "", "", "",
                "", "", "", 61_000_000_500L, "", "", "", "", "");

        assertThat(line(slow)).contains(" response_time:61.000001 ");
    }

    @Test
    void shouldEscapeQuotesBackslashesAndControlCharacters() {
        RequestRecord r = new RequestRecord("evil host", START, "GET", "/a\"b", "HTTP/1.1", 200, 0, 0, "",
                "agent \"x\" \\ \u0001", "", "", "", "", "", 0, "", "", "", "", "");

        assertThat(line(r)).startsWith("evil\\x20host - [").contains("\"GET /a\\\"b HTTP/1.1\"")
                .contains(" \"agent \\\"x\\\" \\\\ \\x01\" ");
    }

    @Test
    void shouldAppendOneLinePerRequestFromItsOwnThread() throws IOException {
        Path file = dir.resolve("access.log");
        Files.writeString(file, "earlier line\n");

        try (AccessLogWriter writer = AccessLogWriter.open(file, 1000)) {
            writer.onRequest(record("/one", 200));
            writer.onRequest(record("/two", 502));
            Await.until(Duration.ofSeconds(10), "two lines written", () -> writer.writtenLines() == 2);
        }

        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo("earlier line");
        assertThat(lines.get(1)).isEqualTo(line(record("/one", 200)));
        assertThat(lines.get(2)).isEqualTo(line(record("/two", 502)));
    }

    @Test
    void shouldDropAndCountLinesWhenTheQueueIsFull() throws IOException {
        Path file = dir.resolve("access.log");
        AccessLogWriter writer = new AccessLogWriter(file, 2);

        for (int i = 0; i < 5; i++) {
            writer.onRequest(record("/" + i, 200));
        }
        assertThat(writer.droppedLines()).isEqualTo(3);

        writer.start();
        writer.close();
        assertThat(writer.writtenLines()).isEqualTo(2);
        assertThat(Files.readAllLines(file)).containsExactly(line(record("/0", 200)), line(record("/1", 200)));
    }

    @Test
    void shouldWriteWhatIsQueuedWhenClosed() throws IOException {
        Path file = dir.resolve("access.log");
        AccessLogWriter writer = AccessLogWriter.open(file, 10_000);
        for (int i = 0; i < 5_000; i++) {
            writer.onRequest(record("/" + i, 200));
        }

        writer.close();

        assertThat(Files.readAllLines(file)).hasSize(5_000 - (int) writer.droppedLines());
        assertThat(writer.droppedLines()).isZero();
        writer.onRequest(record("/late", 200));
        assertThat(writer.droppedLines()).isEqualTo(1);
    }
}
