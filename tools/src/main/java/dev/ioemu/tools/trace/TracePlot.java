package dev.ioemu.tools.trace;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * {@code ioemu-trace plot [-o FILE]}: one self-contained HTML file — no network, no external
 * scripts or styles — with the latency and request-size histograms and an I/O timeline per drive
 * (time against LBA, reads, writes and flushes in their own colours). The data sit in the page as
 * JSON; a short inline script draws SVG from them. A timeline keeps at most {@link #MAX_POINTS}
 * requests per drive (every 2nd, 4th, … once there are more), so a gigabyte log makes a page a
 * browser opens.
 */
final class TracePlot implements Consumer<TraceRecord> {
    static final int MAX_POINTS = 5000;

    /** One drive's requests, decimated by a growing stride to stay under {@link #MAX_POINTS}. */
    private static final class Points {
        final List<long[]> points = new ArrayList<>();   // {micros, lba, bytes, op index}
        long seen;
        long stride = 1;
        long total;
    }

    private static final List<String> OPS = List.of("read", "write", "flush", "discard", "write-zeroes", "verify");
    private final TraceLatency latency = new TraceLatency(null);
    private final TraceSizes sizes = new TraceSizes(null);
    private final Map<String, Points> timelines = new TreeMap<>();
    private long first = TraceRecord.NO_TIME;

    @Override
    public void accept(TraceRecord r) {
        if (first == TraceRecord.NO_TIME) {
            first = r.micros();
        }
        latency.accept(r);
        sizes.accept(r);
        IoOp io = IoOp.of(r);
        if (io == null || io.micros() == TraceRecord.NO_TIME) {
            return;
        }
        Points p = timelines.computeIfAbsent(io.path() + " " + io.drive(), k -> new Points());
        p.total++;
        if (p.seen++ % p.stride != 0) {
            return;
        }
        p.points.add(new long[] {io.micros() - first, io.lba(), io.bytes(), OPS.indexOf(io.op())});
        if (p.points.size() > MAX_POINTS) {
            List<long[]> kept = new ArrayList<>();
            for (int i = 0; i < p.points.size(); i += 2) {
                kept.add(p.points.get(i));
            }
            p.points.clear();
            p.points.addAll(kept);
            p.stride *= 2;
        }
    }

    String html(List<Path> logs, TraceReader.Counts counts) {
        StringBuilder json = new StringBuilder("{\"title\":").append(str(logs.toString()))
                .append(",\"summary\":").append(str(counts.describe())).append(",\"ops\":[");
        for (int i = 0; i < OPS.size(); i++) {
            json.append(i == 0 ? "" : ",").append(str(OPS.get(i)));
        }
        json.append("],\"latency\":");
        histograms(json, latency.series(), 1000);
        json.append(",\"sizes\":");
        histograms(json, sizes.series(), 1);
        json.append(",\"timelines\":[");
        boolean firstDrive = true;
        for (Map.Entry<String, Points> e : timelines.entrySet()) {
            json.append(firstDrive ? "" : ",").append("{\"name\":").append(str(e.getKey())).append(",\"total\":")
                    .append(e.getValue().total).append(",\"points\":[");
            firstDrive = false;
            boolean firstPoint = true;
            for (long[] pt : e.getValue().points) {
                json.append(firstPoint ? "" : ",").append('[').append(pt[0]).append(',').append(pt[1]).append(',')
                        .append(pt[2]).append(',').append(pt[3]).append(']');
                firstPoint = false;
            }
            json.append("]}");
        }
        json.append("]}");
        return PAGE_HEAD + json.toString().replace("</", "<\\/") + PAGE_TAIL;
    }

    /** [{name, unit, count, p50, p90, p99, max, buckets: [[from, to, count]…]}…] */
    private static void histograms(StringBuilder json, Map<String, Histogram> series, long unit) {
        json.append('[');
        boolean first = true;
        for (Map.Entry<String, Histogram> e : series.entrySet()) {
            Histogram h = e.getValue();
            json.append(first ? "" : ",").append("{\"name\":").append(str(e.getKey().replace('\t', ' ')))
                    .append(",\"count\":").append(h.count())
                    .append(",\"p50\":").append(h.percentile(0.5) / (double) unit)
                    .append(",\"p90\":").append(h.percentile(0.9) / (double) unit)
                    .append(",\"p99\":").append(h.percentile(0.99) / (double) unit)
                    .append(",\"max\":").append(h.max() / (double) unit).append(",\"buckets\":[");
            first = false;
            long[] p2 = h.powersOfTwo();
            boolean firstBucket = true;
            for (int i = 0; i < 64; i++) {
                if (p2[i] > 0) {
                    json.append(firstBucket ? "" : ",").append('[').append(i == 0 ? 0 : (double) (1L << i) / unit)
                            .append(',').append((double) (1L << (i + 1)) / unit).append(',').append(p2[i]).append(']');
                    firstBucket = false;
                }
            }
            json.append("]}");
        }
        json.append(']');
    }

    /** A JSON string; {@code <} is escaped so no data can close the script element. */
    private static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '<' -> b.append("\\u003c");
                case '>' -> b.append("\\u003e");
                case '&' -> b.append("\\u0026");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static final String PAGE_HEAD = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>ioemu-trace plot</title>
            <style>
            body{font:13px sans-serif;margin:1em 2em;color:#222}
            h1{font-size:18px} h2{font-size:15px;margin-top:1.5em}
            .chart{margin:.5em 0 1em} .legend span{margin-right:1em}
            svg text{font:11px sans-serif}
            </style>
            <script>window.onerror=function(m){document.documentElement.setAttribute('data-error',String(m));};</script>
            </head><body>
            <h1>ioemu-trace plot</h1>
            <p id="summary"></p>
            <div id="timelines"><h2>I/O timeline per drive</h2></div>
            <div id="latency"><h2>Latency (us)</h2></div>
            <div id="sizes"><h2>Request sizes (bytes)</h2></div>
            <script type="application/json" id="data">""";

    private static final String PAGE_TAIL = """
            </script>
            <script>
            (function () {
              var data = JSON.parse(document.getElementById('data').textContent);
              var NS = 'http://www.w3.org/2000/svg';
              var COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#7f7f7f'];
              var drawn = 0;
              function el(tag, attrs, parent, text) {
                var e = document.createElementNS(NS, tag);
                for (var k in attrs) { e.setAttribute(k, attrs[k]); }
                if (text !== undefined) { e.textContent = text; }
                parent.appendChild(e);
                return e;
              }
              function fmt(v) { return v >= 100 ? Math.round(v).toString() : (Math.round(v * 1000) / 1000).toString(); }
              function histogram(parent, h) {
                var box = document.createElement('div');
                box.className = 'chart';
                var title = document.createElement('div');
                title.textContent = h.name + ': ' + h.count + ' requests, p50 ' + fmt(h.p50) + ', p90 ' + fmt(h.p90)
                    + ', p99 ' + fmt(h.p99) + ', max ' + fmt(h.max);
                box.appendChild(title);
                var W = 640, H = 160, L = 40, B = 40;
                var svg = el('svg', {width: W, height: H + B, viewBox: '0 0 ' + W + ' ' + (H + B)}, box);
                var most = 1;
                h.buckets.forEach(function (b) { most = Math.max(most, b[2]); });
                var bw = Math.max(4, Math.min(60, (W - L) / Math.max(1, h.buckets.length)));
                h.buckets.forEach(function (b, i) {
                  var bh = Math.max(1, (H - 10) * b[2] / most);
                  var x = L + i * bw;
                  el('rect', {x: x + 1, y: H - bh, width: bw - 2, height: bh, fill: '#1f77b4'}, svg)
                    .appendChild(document.createElementNS(NS, 'title')).textContent = '[' + fmt(b[0]) + ', ' + fmt(b[1]) + '): ' + b[2];
                  el('text', {x: x + 2, y: H + 12, transform: 'rotate(30 ' + (x + 2) + ' ' + (H + 12) + ')'}, svg, fmt(b[0]));
                });
                el('text', {x: 2, y: 12}, svg, String(most));
                el('line', {x1: L, y1: H, x2: W, y2: H, stroke: '#444'}, svg);
                parent.appendChild(box);
                drawn++;
              }
              function timeline(parent, t) {
                var box = document.createElement('div');
                box.className = 'chart';
                var title = document.createElement('div');
                title.textContent = t.name + ': ' + t.total + ' requests' + (t.points.length < t.total ? ' (' + t.points.length + ' shown)' : '');
                box.appendChild(title);
                var W = 900, H = 220, L = 70, B = 24;
                var svg = el('svg', {width: W, height: H + B, viewBox: '0 0 ' + W + ' ' + (H + B)}, box);
                var tmax = 1, lmax = 1;
                t.points.forEach(function (p) { tmax = Math.max(tmax, p[0]); lmax = Math.max(lmax, p[1] + p[2] / 512); });
                t.points.forEach(function (p) {
                  var x = L + (W - L - 10) * p[0] / tmax;
                  var y = p[1] < 0 ? 4 : H - (H - 10) * p[1] / lmax;
                  var h = p[1] < 0 ? H - 4 : Math.max(2, (H - 10) * (p[2] / 512) / lmax);
                  el('rect', {x: x, y: y - (p[1] < 0 ? 0 : h), width: 2, height: h, fill: COLOURS[p[3]] || '#000',
                              opacity: p[1] < 0 ? 0.4 : 0.9}, svg);
                });
                el('line', {x1: L, y1: H, x2: W, y2: H, stroke: '#444'}, svg);
                el('line', {x1: L, y1: 0, x2: L, y2: H, stroke: '#444'}, svg);
                el('text', {x: 2, y: 12}, svg, 'LBA ' + lmax);
                el('text', {x: 2, y: H}, svg, 'LBA 0');
                el('text', {x: W - 120, y: H + 16}, svg, fmt(tmax / 1000) + ' ms');
                var legend = document.createElement('div');
                legend.className = 'legend';
                data.ops.forEach(function (op, i) {
                  var s = document.createElement('span');
                  s.style.color = COLOURS[i];
                  s.textContent = '\\u25a0 ' + op;
                  legend.appendChild(s);
                });
                box.appendChild(legend);
                parent.appendChild(box);
                drawn++;
              }
              document.getElementById('summary').textContent = data.title + ': ' + data.summary;
              data.timelines.forEach(function (t) { timeline(document.getElementById('timelines'), t); });
              data.latency.forEach(function (h) { histogram(document.getElementById('latency'), h); });
              data.sizes.forEach(function (h) { histogram(document.getElementById('sizes'), h); });
              document.documentElement.setAttribute('data-rendered', String(drawn));
            })();
            </script>
            </body></html>
            """;
}
