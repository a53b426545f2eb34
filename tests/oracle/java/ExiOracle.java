// EXIficient driver for the differential tests: one JVM, many messages.
//
// Arguments: name=path/to/root.xsd pairs, e.g. iso2=.../V2G_CI_MsgDef.xsd.
// Protocol on stdin/stdout, one request line -> exactly one answer line:
//
//   ENC <schema> <fragment 0|1> <base64 UTF-8 XML>      -> OK <base64 EXI>
//   DEC <schema> <fragment 0|1> <base64 EXI>            -> OK <base64 UTF-8 XML>
//   BENCH <schema> <fragment 0|1> <iterations> <b64 EXI> -> OK <base64 JSON>
//   PING                                                 -> OK <base64 "pong">
//   SLEEP <ms>                                           -> OK (after ms; tests the client timeout)
//
// Any failure of one request answers "ERR <one-line message>" and the loop goes
// on: a bad message must never take the JVM (and with it the whole batch) down.
//
// EXI options are those of ISO 15118-2 as verified on production data
// (see docs/exi-oracle.md): schema-informed, bit-packed, default fidelity
// options (not strict), no value string table, no built-in grammar learning,
// no options in the header.

import com.siemens.ct.exi.core.CodingMode;
import com.siemens.ct.exi.core.EXIFactory;
import com.siemens.ct.exi.core.EncodingOptions;
import com.siemens.ct.exi.core.FidelityOptions;
import com.siemens.ct.exi.core.grammars.Grammars;
import com.siemens.ct.exi.core.helpers.DefaultEXIFactory;
import com.siemens.ct.exi.grammars.GrammarFactory;
import com.siemens.ct.exi.main.api.sax.EXIResult;
import com.siemens.ct.exi.main.api.sax.EXISource;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

import javax.xml.parsers.SAXParserFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.sax.SAXSource;
import javax.xml.transform.stream.StreamResult;

import org.xml.sax.InputSource;
import org.xml.sax.XMLReader;

public final class ExiOracle {
    private final Map<String, String> schemaPaths = new HashMap<>();
    private final Map<String, Grammars> grammars = new HashMap<>();
    private final Map<String, EXIFactory> factories = new HashMap<>();
    private final SAXParserFactory saxFactory = SAXParserFactory.newInstance();
    private final TransformerFactory transformerFactory = TransformerFactory.newInstance();

    private ExiOracle(String[] args) {
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected name=path, got " + arg);
            }
            schemaPaths.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        saxFactory.setNamespaceAware(true);
    }

    private EXIFactory factory(String schema, boolean fragment) throws Exception {
        String key = schema + (fragment ? "#fragment" : "#document");
        EXIFactory factory = factories.get(key);
        if (factory != null) {
            return factory;
        }
        Grammars g = grammars.get(schema);
        if (g == null) {
            String path = schemaPaths.get(schema);
            if (path == null) {
                throw new IllegalArgumentException("unknown schema " + schema);
            }
            // Building grammars from the XSDs is the expensive step (~1 s for
            // MsgDef); done once per schema for the life of the JVM.
            g = GrammarFactory.newInstance().createGrammars(path);
            grammars.put(schema, g);
        }
        factory = DefaultEXIFactory.newInstance();
        factory.setGrammars(g);
        factory.setCodingMode(CodingMode.BIT_PACKED);
        factory.setFidelityOptions(FidelityOptions.createDefault());
        // Default encoding options: no cookie, no options document -> header 0x80.
        factory.setEncodingOptions(EncodingOptions.createDefault());
        factory.setValuePartitionCapacity(0);
        factory.setMaximumNumberOfBuiltInElementGrammars(0);
        factory.setMaximumNumberOfBuiltInProductions(0);
        factory.setFragment(fragment);
        factories.put(key, factory);
        return factory;
    }

    private byte[] encode(EXIFactory factory, byte[] xml) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream(xml.length);
        EXIResult result = new EXIResult(factory);
        result.setOutputStream(out);
        XMLReader reader = saxFactory.newSAXParser().getXMLReader();
        reader.setContentHandler(result.getHandler());
        reader.parse(new InputSource(new ByteArrayInputStream(xml)));
        return out.toByteArray();
    }

    private byte[] decode(EXIFactory factory, byte[] exi) throws Exception {
        EXISource exiSource = new EXISource(factory);
        SAXSource source = new SAXSource(new InputSource(new ByteArrayInputStream(exi)));
        source.setXMLReader(exiSource.getXMLReader());
        Transformer transformer = transformerFactory.newTransformer();
        transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
        transformer.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
        ByteArrayOutputStream out = new ByteArrayOutputStream(exi.length * 4 + 64);
        transformer.transform(source, new StreamResult(out));
        return out.toByteArray();
    }

    // Times decode and encode of one message after a warm-up of the same length,
    // so the figures compare a JIT-compiled EXIficient with the Python codec.
    private String bench(EXIFactory factory, byte[] exi, int iterations) throws Exception {
        byte[] xml = decode(factory, exi);
        long sink = 0;
        for (int i = 0; i < iterations; i++) {
            sink += decode(factory, exi).length + encode(factory, xml).length;
        }
        // Wall time, and the CPU time of this thread: on a machine shared with other jobs the
        // latter is what a comparison with the Python side's process CPU time can rely on.
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        long t0 = System.nanoTime();
        long c0 = cpu.getCurrentThreadCpuTime();
        for (int i = 0; i < iterations; i++) {
            sink += decode(factory, exi).length;
        }
        long t1 = System.nanoTime();
        long c1 = cpu.getCurrentThreadCpuTime();
        for (int i = 0; i < iterations; i++) {
            sink += encode(factory, xml).length;
        }
        long t2 = System.nanoTime();
        long c2 = cpu.getCurrentThreadCpuTime();
        return String.format(java.util.Locale.ROOT,
            "{\"decode_us\": %.3f, \"encode_us\": %.3f, \"decode_cpu_us\": %.3f, \"encode_cpu_us\": %.3f, "
                + "\"iterations\": %d, \"warmup\": %d, \"sink\": %d}",
            (t1 - t0) / 1e3 / iterations, (t2 - t1) / 1e3 / iterations,
            (c1 - c0) / 1e3 / iterations, (c2 - c1) / 1e3 / iterations, iterations, iterations, sink);
    }

    private String handle(String line) throws Exception {
        String[] parts = line.trim().split(" ");
        Base64.Decoder b64d = Base64.getDecoder();
        Base64.Encoder b64e = Base64.getEncoder();
        switch (parts[0]) {
            case "PING":
                return b64e.encodeToString("pong".getBytes(StandardCharsets.UTF_8));
            case "SLEEP":
                expect(parts, 2);
                Thread.sleep(Long.parseLong(parts[1]));
                return "";
            case "ENC":
                expect(parts, 4);
                return b64e.encodeToString(encode(factory(parts[1], flag(parts[2])), b64d.decode(parts[3])));
            case "DEC":
                expect(parts, 4);
                return b64e.encodeToString(decode(factory(parts[1], flag(parts[2])), b64d.decode(parts[3])));
            case "BENCH":
                expect(parts, 5);
                String json = bench(factory(parts[1], flag(parts[2])), b64d.decode(parts[4]),
                    Integer.parseInt(parts[3]));
                return b64e.encodeToString(json.getBytes(StandardCharsets.UTF_8));
            default:
                throw new IllegalArgumentException("unknown command " + parts[0]);
        }
    }

    private static void expect(String[] parts, int n) {
        if (parts.length != n) {
            throw new IllegalArgumentException(parts[0] + " takes " + (n - 1) + " arguments, got " + (parts.length - 1));
        }
    }

    private static boolean flag(String s) {
        if (s.equals("1")) return true;
        if (s.equals("0")) return false;
        throw new IllegalArgumentException("fragment flag must be 0 or 1, got " + s);
    }

    private static String oneLine(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (sb.length() > 0) sb.append(" <- ");
            sb.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
            if (c.getCause() == c) break;
        }
        return sb.toString().replace('\r', ' ').replace('\n', ' ');
    }

    public static void main(String[] args) throws Exception {
        ExiOracle oracle = new ExiOracle(args);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.US_ASCII));
        // EXIficient and Xerces may print warnings on stdout; keep the protocol
        // channel clean by sending everything else to stderr.
        System.setOut(System.err);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            if (line.trim().equals("QUIT")) break;
            String answer;
            try {
                answer = "OK " + oracle.handle(line);
            } catch (Throwable t) {  // StackOverflowError etc. included: one bad message, one ERR
                answer = "ERR " + oneLine(t);
            }
            out.write(answer);
            out.write('\n');
            out.flush();
        }
    }
}
