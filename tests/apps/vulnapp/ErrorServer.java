// A Java server that prints the exception's stack trace into the response (what a default
// error page with debugging on shows), for a real Java stack trace in the vulnapp recording.
// usage: java ErrorServer.java HOST PORT   (single-file source launch, JDK 11+)
import com.sun.net.httpserver.HttpServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;

public class ErrorServer {
    static int price(Map<String, Integer> prices, String item) {
        return prices.get(item) * 2; // missing item: NullPointerException
    }

    public static void main(String[] args) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 0);
        server.createContext("/", exchange -> {
            int status = 200;
            String body = "ok\n";
            if (!exchange.getRequestURI().getPath().startsWith("/ok")) {
                try {
                    body = "price " + price(Map.of("phone", 299), "tablet");
                } catch (RuntimeException e) {
                    StringWriter w = new StringWriter();
                    e.printStackTrace(new PrintWriter(w));
                    status = 500;
                    body = "<html><body><h1>HTTP Status 500</h1><pre>" + w + "</pre></body></html>";
                }
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", status == 200 ? "text/plain" : "text/html");
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
    }
}
