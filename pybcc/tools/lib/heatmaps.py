"""--heatmap FILE.svg for the latency tools: time on x, latency bucket on y.

Histogram tools (runqlat) keep a log2 histogram in a map; a ``HistogramTap``
empties it once a second into a heat map column and keeps the sums, which the
tool's own report then takes instead of reading the map. Event tools
(biosnoop) add each event's latency as it arrives.
"""
import time

from ...output.histogram import collect_sections

# shlex, threading and the SVG heat map are imported only with --heatmap:
# the tools that offer it import this module on every start.

HELP = "also draw a latency heat map (time x latency, count as colour) into this SVG file"


def add_heatmap_arg(parser):
    parser.add_argument("--heatmap", metavar="FILE.svg", help=HELP)


def command_line(tool, argv):
    import shlex
    return "pybcc %s %s" % (tool, " ".join(shlex.quote(a) for a in argv))


def write_heatmap(heatmap, path, title, command, started):
    seconds = time.monotonic() - started
    subtitle = "%s · %.1f s · %s %s" % (command, seconds, "{:,}".format(heatmap.total()), heatmap.what)
    heatmap.write(path, title=title, subtitle=subtitle)


class HistogramTap:
    """Empties ``hist_map`` each ``column_seconds`` into ``heatmap`` (all
    sections summed into one column), keeping per-section sums for ``take``."""

    def __init__(self, hist_map, unit, what, section=None, column_seconds=1.0):
        import threading
        from ...output.heatmap import HeatMap
        self.hist_map, self.section = hist_map, section
        self.heatmap = HeatMap(column_seconds, unit, start=0.0, what=what)
        self.column_seconds = column_seconds
        self.started = self.last_tick = time.monotonic()
        self.sums = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="heatmap", daemon=True)
        self.thread.start()

    def _run(self):
        next_tick = self.started + self.column_seconds
        while not self.stopped.wait(max(0.0, next_tick - time.monotonic())):
            self.tick()
            next_tick += self.column_seconds

    def tick(self):
        """Move the map's counts into the heat map and into the sums. They
        belong to the column holding the middle of the time since the last
        tick; a short remainder (the last report) joins the column before."""
        with self.lock:
            now = time.monotonic()
            span = now - self.last_tick
            when = self.last_tick + span / 2 if span >= self.column_seconds / 2 \
                else self.last_tick - self.column_seconds / 2
            self.last_tick = now
            hists = collect_sections(self.hist_map, self.section)
            column = None
            for sec, slots in hists.items():
                mine = self.sums.setdefault(sec, [0] * len(slots))
                for i, n in enumerate(slots):
                    mine[i] += n
                column = slots if column is None else [a + b for a, b in zip(column, slots)]
            if column:
                self.heatmap.add_histogram(when - self.started, column)

    def take(self):
        """The histograms summed since the last take (what the tool reports)."""
        self.tick()
        with self.lock:
            sums, self.sums = self.sums, {}
        return sums

    def finish(self, path, title, command):
        """Stop ticking and write the SVG (after the tool's last report)."""
        self.stopped.set()
        self.thread.join()
        self.tick()
        write_heatmap(self.heatmap, path, title, command, self.started)
