"""Interactive flame graphs as one self-contained SVG file.

The look and behaviour users know from flamegraph.pl (written anew here):
frames as static SVG (the picture shows in any viewer), and a small script
for click-to-zoom, Reset Zoom, regex search with "Matched: N%", and the frame
under the mouse in a details line. Colours tell frame kinds apart by their
annotation suffix: kernel ``_[k]`` (orange), inlined ``_[i]`` (aqua), JIT
``_[j]`` (green), user (red to yellow); frames after a ``-`` delimiter are
kernel frames. ``inverted`` draws an icicle graph (root at the top).
"""
import html
import json
import os
import re
import zlib

from . import flamelayout, write_text

SCRIPT = os.path.join(os.path.dirname(__file__), "flamegraph.js")

FONT_SIZE = 12
FONT_WIDTH = 0.59          # average character width, in font sizes (for label fitting)
FRAME_HEIGHT = 16
XPAD = 10
MATCH_COLOR = "rgb(230,0,230)"
KIND_SUFFIXES = {"_[k]": "kernel", "_[i]": "inlined", "_[j]": "jit", "_[w]": "waker"}
SPECIAL_FRAMES = {"-", "--", "[unknown]", "[Missed User Stack]", "[Missed Kernel Stack]"}
UNITS = ("samples", "us", "ns", "bytes", "count")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def format_amount(value, unit):
    """A count with its unit, as people read it: samples, µs/ms/s, bytes/KiB/MiB."""
    if unit == "ns":
        value, unit = value / 1000.0, "us"
    if unit == "us":
        if value < 1000:
            return "%s µs" % _number(value)
        if value < 1000000:
            return "%.2f ms" % (value / 1000.0)
        return "%.2f s" % (value / 1e6)
    if unit == "bytes":
        if value < 1024:
            return "%s bytes" % _number(value)
        for scale, name in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if value >= scale:
                return "%.1f %s" % (value / scale, name)
    if unit == "count":
        return _number(value)
    return "%s %s" % (_number(value), unit)


def _number(value):
    if value == int(value):
        return "{:,}".format(int(value))
    return "{:,.2f}".format(value)


def frame_kind(name):
    """(kind, name without its annotation suffix)."""
    if name in SPECIAL_FRAMES or name.startswith("[") and name.endswith("narrow frames]"):
        return "special", name
    kind = KIND_SUFFIXES.get(name[-4:])
    if kind:
        return kind, name[:-4]
    return "user", name


def _shade(name, salt):
    """Three stable pseudo-random numbers in [0, 1) for a frame name."""
    h = zlib.crc32((salt + name).encode("utf-8", "replace"))
    return (h & 0xff) / 256.0, ((h >> 8) & 0xff) / 256.0, ((h >> 16) & 0xff) / 256.0


def frame_color(kind, name, kinds_known=True):
    """``kinds_known``: the profile marks its kernel/inlined/JIT frames, so
    user frames take reds that orange kernel frames stand out from; else
    every frame gets the classic red-to-yellow."""
    a, b, c = _shade(name, kind)
    if kind == "user" and not kinds_known:
        rgb = (205 + 50 * c, 230 * a, 55 * b)
    elif kind == "user":          # reds
        rgb = (200 + 55 * c, 40 + 70 * a, 40 + 50 * b)
    elif kind == "kernel":        # orange
        rgb = (235 + 20 * a, 140 + 45 * b, 40 * c)
    elif kind == "inlined":       # aqua
        rgb = (60 + 60 * a, 190 + 50 * b, 190 + 50 * b)
    elif kind == "jit":           # green
        rgb = (50 + 60 * a, 180 + 60 * b, 50 + 50 * c)
    elif kind == "waker":         # purple-blue
        rgb = (130 + 50 * a, 120 + 50 * b, 220 + 35 * c)
    elif kind == "special":       # grey
        rgb = (180 + 20 * a,) * 3
    return "#%02x%02x%02x" % tuple(int(v) for v in rgb)


def diff_color(delta, max_delta):
    """White for no change, red for growth, blue for shrinkage, deeper with size."""
    if not delta or not max_delta:
        return "#ffffff"
    fade = int(210 - 210 * min(1.0, abs(delta) / max_delta))
    return "#ff%02x%02x" % (fade, fade) if delta > 0 else "#%02x%02xff" % (fade, fade)


def annotate_delimited(stacks):
    """Mark frames after bcc's '-' user/kernel delimiter as kernel frames."""
    out = {}
    for stack, value in stacks.items():
        if ";-;" in stack:
            user, _, kernel = stack.partition(";-;")
            stack = user + ";-;" + ";".join(f if f[-4:] in KIND_SUFFIXES else f + "_[k]"
                                             for f in kernel.split(";"))
        if stack in out and isinstance(value, tuple):
            value = tuple(a + b for a, b in zip(out[stack], value))
        elif stack in out:
            value += out[stack]
        out[stack] = value
    return out


def _escape(text):
    return html.escape(_CONTROL.sub("?", text), quote=False)


def _label(name, width):
    fit = int((width - 6) // (FONT_SIZE * FONT_WIDTH))
    if fit < 3:
        return ""
    return name if len(name) <= fit else name[:fit - 2] + ".."


def _num(v):
    return str(int(v)) if v == int(v) else repr(round(v, 4))


def render(stacks, title=None, subtitle=None, unit="samples", width=1200, min_width=0.1,
           inverted=False, differential=False, count_name=None, negate=False):
    """The SVG text for ``stacks`` ({"a;b;c": count}; with ``differential``,
    {"a;b;c": (before, after)}: widths show ``after``, colours the change).
    ``min_width`` is in pixels: narrower frames merge (see flamelayout).
    ``negate``: differential widths from ``before`` instead (frames that
    shrank or went away show), colours and changes still after - before."""
    if unit not in UNITS:
        raise ValueError("unit must be one of %s" % ", ".join(UNITS))
    stacks = annotate_delimited(stacks)
    if differential and negate:
        stacks = {stack: (after, before) for stack, (before, after) in stacks.items()}
    plot_width = width - 2 * XPAD
    total = sum(v[1] for v in stacks.values()) if differential else sum(stacks.values())
    min_count = min_width * total / plot_width if total else 0
    lay = flamelayout.layout(stacks, min_count, differential)
    if differential and negate:
        for f in lay.frames:
            f.delta = -f.delta
    if title is None:
        title = "Differential Flame Graph" if differential else \
            "Icicle Graph" if inverted else "Flame Graph"
    top = FONT_SIZE * 3 + (FONT_SIZE + 8 if subtitle else 0)
    bottom = FONT_SIZE * 2 + 10
    height = top + bottom + (lay.max_depth + 1) * FRAME_HEIGHT
    scale = plot_width / lay.total if lay.total else 0
    max_delta = max((abs(f.delta) for f in lay.frames[1:]), default=0)
    kinds_known = any(frame_kind(f.name)[0] not in ("user", "special") for f in lay.frames)

    out = []
    add = out.append
    add('<?xml version="1.0" standalone="no"?>\n'
        '<svg version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" '
        'xmlns="http://www.w3.org/2000/svg">\n' % (width, height, width, height))
    add('<!-- drawn by pybcc: %d stacks, %d frames -->\n' % (lay.stacks, len(lay.frames)))
    add("<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
        "<stop stop-color=\"#eeeeee\" offset=\"5%%\"/><stop stop-color=\"%s\" offset=\"95%%\"/>"
        "</linearGradient></defs>\n" % ("#e0e0ff" if differential else "#eeeeb0"))
    add("<style>\n"
        "text { font-family: Verdana, sans-serif; font-size: %dpx; fill: #000; }\n"
        "#title { text-anchor: middle; font-size: %dpx; }\n"
        "#subtitle { text-anchor: middle; fill: #555; }\n"
        "#matched { text-anchor: end; }\n"
        "#search { text-anchor: end; }\n"
        ".button { cursor: pointer; opacity: 0.9; }\n"
        ".button:hover { text-decoration: underline; }\n"
        ".hide { display: none; }\n"
        "#frames rect { rx: 2px; ry: 2px; cursor: pointer; }\n"
        "#frames rect:hover { stroke: #000; stroke-width: 0.5; }\n"
        "#frames text { pointer-events: none; }\n"
        ".parent { opacity: 0.5; }\n"
        "</style>\n" % (FONT_SIZE, FONT_SIZE + 5))
    add('<rect x="0" y="0" width="%d" height="%d" fill="url(#background)"/>\n' % (width, height))
    add('<text id="title" x="%.1f" y="%d">%s</text>\n' % (width / 2, FONT_SIZE * 2, _escape(title)))
    if subtitle:
        add('<text id="subtitle" x="%.1f" y="%d">%s</text>\n'
            % (width / 2, FONT_SIZE * 2 + FONT_SIZE + 8, _escape(subtitle)))
    add('<text id="resetzoom" class="button hide" x="%d" y="%d">Reset Zoom</text>\n' % (XPAD, FONT_SIZE * 2))
    add('<text id="search" class="button" x="%d" y="%d">Search</text>\n' % (width - XPAD, FONT_SIZE * 2))
    add('<text id="details" x="%d" y="%d"> </text>\n' % (XPAD, height - FONT_SIZE // 2 - 4))
    add('<text id="matched" class="hide" x="%d" y="%d"> </text>\n'
        % (width - XPAD, height - FONT_SIZE // 2 - 4))

    add('<g id="frames">\n')
    data = []
    # Each frame is one <rect> (and a <text> label when it fits): no <title>
    # and no <g> per frame, which halves what the browser parses and lays
    # out. Names, counts and the tooltips' text live in the script's data.
    name_index = {}
    names = []
    for f in lay.frames:
        kind, name = frame_kind(f.name)
        if f.depth == 0:
            kind = "special"
        x = XPAD + f.start * scale
        w = f.count * scale
        if inverted:
            y = top + f.depth * FRAME_HEIGHT
        else:
            y = height - bottom - (f.depth + 1) * FRAME_HEIGHT
        fill = diff_color(f.delta, max_delta) if differential else frame_color(kind, name, kinds_known)
        add('<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"/>'
            % (x, y, w, FRAME_HEIGHT - 1, fill))
        label = _label(name, w)
        if label:       # (the script adds labels to frames that zooming widens)
            add('<text x="%.2f" y="%.1f">%s</text>' % (x + 3, y + FRAME_HEIGHT - 4.5, _escape(label)))
        add("\n")
        i = name_index.get(name)
        if i is None:
            i = name_index[name] = len(names)
            names.append(name)
        data.extend((_num(f.start), _num(f.count), str(f.depth), str(i)))
        if differential:
            data.append(_num(f.delta))
    add("</g>\n")
    settings = {"total": lay.total, "plotWidth": plot_width, "xpad": XPAD, "fontSize": FONT_SIZE,
                "fontWidth": FONT_WIDTH, "frameHeight": FRAME_HEIGHT, "matchColor": MATCH_COLOR,
                "detailsPrefix": "Frame: ", "unit": count_name or unit, "differential": differential,
                "stride": 5 if differential else 4, "names": names}
    # ">" only occurs inside JSON strings: escaping it keeps "]]>" out of the CDATA.
    settings_json = json.dumps(settings, ensure_ascii=False)[:-1].replace(">", "\\u003e")
    add('<script type="text/ecmascript"><![CDATA[\nvar FG = %s, "frames": [%s]};\n]]></script>\n'
        % (settings_json, ",".join(data)))
    with open(SCRIPT, encoding="utf-8") as f:
        add('<script type="text/ecmascript"><![CDATA[\n%s]]></script>\n' % f.read())
    add("</svg>\n")
    return "".join(out)


def read_frames(svg_text):
    """The frames of an SVG written by render(), from its data: a list of
    dicts (name, start, count, depth, and delta when differential), root
    first, in drawing order; with "fill" from the drawing. For tests and
    tools that check a picture."""
    import xml.etree.ElementTree as ET
    data = json.loads(re.search(r"var FG = (\{.*?\});\n", svg_text).group(1))
    stride, numbers = data["stride"], data["frames"]
    ns = "{http://www.w3.org/2000/svg}"
    rects = ET.fromstring(svg_text).find(ns + "g[@id='frames']").findall(ns + "rect")
    frames = []
    for i in range(len(numbers) // stride):
        row = numbers[i * stride:(i + 1) * stride]
        frame = {"name": data["names"][row[3]], "start": row[0], "count": row[1], "depth": row[2],
                 "fill": rects[i].get("fill")}
        if stride == 5:
            frame["delta"] = row[4]
        frames.append(frame)
    return frames


def write(path_or_file, stacks, **options):
    """Write the SVG to a path or an open text file."""
    write_text(path_or_file, render(stacks, **options))
