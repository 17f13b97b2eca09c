"""Latency heat maps as one self-contained SVG: time on x, latency bucket on
y (log2 buckets, as bcc's histograms), the count of events in each cell as
colour (darker is more). Hovering or clicking a cell shows its time range,
latency range and count. Tools feed it events (``add``) or one log2
histogram per interval (``add_histogram``).
"""
import html
import math

WIDTH = 1200
LEFT, RIGHT, TOP, BOTTOM = 80, 160, 60, 60
ROW_HEIGHT_MAX = 18
LOW, HIGH = (255, 238, 170), (160, 0, 0)   # colours of the smallest and largest counts

SCRIPT = """<script type="text/ecmascript"><![CDATA[
(function () {
  var details = document.getElementById("details"), cells = document.getElementById("cells");
  var chosen = null;
  function text(ev) { var t = ev.target.getElementsByTagName("title")[0]; return t ? t.textContent : null; }
  cells.addEventListener("mouseover", function (ev) { var t = text(ev); if (t && !chosen) details.textContent = t; });
  cells.addEventListener("mouseout", function () { if (!chosen) details.textContent = " "; });
  cells.addEventListener("click", function (ev) {
    var t = text(ev);
    if (!t) return;
    if (chosen) chosen.classList.remove("chosen");
    chosen = ev.target; chosen.classList.add("chosen");
    details.textContent = t;
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && chosen) { chosen.classList.remove("chosen"); chosen = null; details.textContent = " "; }
  });
})();
]]></script>
"""


def log2_slot(value):
    """bcc's log2 slot: 0 for 0, else the bit length (slot i holds 2^(i-1) .. 2^i - 1)."""
    return int(value).bit_length() if value > 0 else 0


def slot_range(slot):
    return (0, 0) if slot == 0 else (1 << (slot - 1), (1 << slot) - 1)


def format_latency(value, unit):
    if unit == "usecs":
        if value >= 1000000:
            return "%.3g s" % (value / 1e6)
        if value >= 1000:
            return "%.3g ms" % (value / 1000.0)
        return "%d µs" % value
    if unit == "nsecs":
        return format_latency(value / 1000.0, "usecs") if value >= 1000 else "%d ns" % value
    if unit == "msecs":
        return format_latency(value * 1000, "usecs")
    return "%d %s" % (value, unit)


class HeatMap:
    """Counts per (time column, log2 latency slot)."""

    def __init__(self, column_seconds=1.0, unit="usecs", start=None, what="events"):
        if column_seconds <= 0:
            raise ValueError("column_seconds must be positive")
        self.column_seconds = column_seconds
        self.unit = unit
        self.start = start      # time of the left edge; the first event's time when None
        self.what = what
        self.cells = {}         # (column, slot) -> count

    def _column(self, t):
        if self.start is None:
            self.start = t
        return max(0, int((t - self.start) // self.column_seconds))

    def add(self, t, latency, count=1):
        """One event at time ``t`` (seconds, any clock) with ``latency`` in ``unit``."""
        key = (self._column(t), log2_slot(latency))
        self.cells[key] = self.cells.get(key, 0) + count

    def add_histogram(self, t, slots):
        """A column from a log2 histogram (slot i as bcc's bpf_log2l fills it)
        of the interval that starts at time ``t``."""
        column = self._column(t)
        for slot, count in enumerate(slots):
            if count:
                self.cells[(column, slot)] = self.cells.get((column, slot), 0) + count

    def total(self):
        return sum(self.cells.values())

    def render(self, title="Latency Heat Map", subtitle=None):
        cells = self.cells
        columns = max((c for c, _ in cells), default=0) + 1
        low_slot = min((s for _, s in cells), default=0)
        high_slot = max((s for _, s in cells), default=0)
        rows = high_slot - low_slot + 1
        plot_width = WIDTH - LEFT - RIGHT
        # Merge neighbouring columns when there are more than half as many pixels.
        merge = max(1, math.ceil(columns / (plot_width / 2.0)))
        if merge > 1:
            merged = {}
            for (c, s), n in cells.items():
                merged[(c // merge, s)] = merged.get((c // merge, s), 0) + n
            cells, columns = merged, (columns + merge - 1) // merge
        cell_w = plot_width / columns
        row_h = min(ROW_HEIGHT_MAX, max(8, 400 // rows))
        plot_height = rows * row_h
        height = TOP + plot_height + BOTTOM + (16 if subtitle else 0)
        top = TOP + (16 if subtitle else 0)
        max_count = max(cells.values(), default=0)
        span = self.column_seconds * merge

        out = []
        add = out.append
        add('<?xml version="1.0" standalone="no"?>\n'
            '<svg version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" '
            'xmlns="http://www.w3.org/2000/svg">\n' % (WIDTH, height, WIDTH, height))
        add("<style>\ntext { font-family: Verdana, sans-serif; font-size: 11px; fill: #000; }\n"
            "#title { text-anchor: middle; font-size: 17px; }\n"
            "#subtitle { text-anchor: middle; fill: #555; font-size: 12px; }\n"
            ".ylabel { text-anchor: end; }\n.xlabel { text-anchor: middle; }\n"
            "#cells rect { cursor: pointer; }\n#cells rect:hover { stroke: #000; stroke-width: 1; }\n"
            ".chosen { stroke: #00f; stroke-width: 2; }\n</style>\n")
        add('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>\n' % (WIDTH, height))
        add('<text id="title" x="%d" y="24">%s</text>\n' % (WIDTH // 2, _escape(title)))
        if subtitle:
            add('<text id="subtitle" x="%d" y="42">%s</text>\n' % (WIDTH // 2, _escape(subtitle)))
        add('<rect x="%d" y="%d" width="%d" height="%d" fill="#f4f4f4" stroke="#999"/>\n'
            % (LEFT, top, plot_width, plot_height))
        # y axis: one label per row while they fit, else every other one.
        step = 1 if row_h >= 12 else 2
        for i in range(0, rows, step):
            slot = low_slot + i
            y = top + plot_height - i * row_h - row_h / 2.0 + 4
            add('<text class="ylabel" x="%d" y="%.1f">%s</text>\n'
                % (LEFT - 6, y, _escape(format_latency(slot_range(slot)[0], self.unit))))
        add('<text x="14" y="%.1f" transform="rotate(-90 14 %.1f)" class="xlabel">latency (%s)</text>\n'
            % (top + plot_height / 2.0, top + plot_height / 2.0, self.unit))
        # x axis: about ten labelled ticks, on whole seconds.
        duration = columns * span
        tick = _nice_step(duration / 10.0)
        t = 0.0
        while t <= duration + 1e-9:
            x = LEFT + t / span * cell_w
            add('<text class="xlabel" x="%.1f" y="%d">%gs</text>\n' % (x, top + plot_height + 16, t))
            t += tick
        add('<text class="xlabel" x="%d" y="%d">time (seconds)</text>\n'
            % (LEFT + plot_width // 2, top + plot_height + 34))
        add('<g id="cells">\n')
        for (c, s), n in sorted(cells.items()):
            lo, hi = slot_range(s)
            x = LEFT + c * cell_w
            y = top + plot_height - (s - low_slot + 1) * row_h
            info = "%g-%gs, %s to %s: %d %s" % (
                c * span, (c + 1) * span, format_latency(lo, self.unit),
                format_latency(hi, self.unit), n, self.what)
            add('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"><title>%s</title></rect>\n'
                % (x, y, cell_w, row_h, _color(n, max_count), _escape(info)))
        add("</g>\n")
        # Legend: the colour scale from 1 to the largest count.
        lx, ly = LEFT + plot_width + 20, top
        for i in range(10):
            n = max(1, round(max_count ** (i / 9.0))) if max_count else 0
            add('<rect x="%d" y="%d" width="14" height="14" fill="%s"/>'
                '<text x="%d" y="%d">%d</text>\n' % (lx, ly + i * 16, _color(n, max_count), lx + 20,
                                                     ly + i * 16 + 11, n))
        add('<text x="%d" y="%d">%s per cell</text>\n' % (lx, ly + 10 * 16 + 12, _escape(self.what)))
        add('<text id="details" x="%d" y="%d"> </text>\n' % (LEFT, height - 8))
        add(SCRIPT)
        add("</svg>\n")
        return "".join(out)

    def write(self, path, **options):
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.render(**options))


def _color(count, max_count):
    """Log scale, so that cells with a few events still show."""
    if max_count <= 1:
        f = 1.0
    else:
        f = math.log(count) / math.log(max_count)
    return "#%02x%02x%02x" % tuple(int(a + (b - a) * f) for a, b in zip(LOW, HIGH))


def _nice_step(raw):
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        if step >= raw:
            return step
    return 3600 * math.ceil(raw / 3600)


def _escape(text):
    return html.escape(text, quote=False)
