"""Histograms in bcc's exact text format (log2 and linear buckets).

``vals`` is a list indexed by bucket slot; for log2 histograms slot i holds
values in [2^(i-1), 2^i - 1] (slot 0 is the value 0), as bpf_log2l() fills it.
Each function returns the text; print_* write it to stdout.
"""
import sys
import time

STARS_MAX = 40


def stars(val, val_max, width):
    """The bar: width * val / val_max stars, '+' at the end when val overflows."""
    if val_max <= 0:
        return ""
    n = 0
    while n <= width * val / val_max - 1 and n < width:
        n += 1
    bar = "*" * n
    if val > val_max:
        bar = bar[:-1] + "+"
    return bar


def _last_nonzero(vals):
    last = -1
    for i, v in enumerate(vals):
        if v > 0:
            last = i
    return last


def log2_hist_text(vals, val_type="value", strip_leading_zero=False):
    idx_max = _last_nonzero(vals)
    val_max = max(vals, default=0)
    if idx_max <= 32:
        header = "     %-19s : count     distribution" % val_type
        row, width = "%10d -> %-10d : %-8d |%-*s|", STARS_MAX
    else:
        header = "               %-29s : count     distribution" % val_type
        row, width = "%20d -> %-20d : %-8d |%-*s|", STARS_MAX // 2
    lines = [header] if idx_max > 0 else []
    for i in range(1, idx_max + 1):
        low, high = (1 << i) >> 1, (1 << i) - 1
        if low == high:
            low -= 1
        val = vals[i]
        if strip_leading_zero and not val:
            continue
        strip_leading_zero = False
        lines.append(row % (low, high, val, width, stars(val, val_max, width)))
    return "\n".join(lines) + ("\n" if lines else "")


def linear_hist_text(vals, val_type="value", strip_leading_zero=False):
    idx_max = _last_nonzero(vals)
    val_max = max(vals, default=0)
    lines = ["     %-13s : count     distribution" % val_type] if idx_max >= 0 else []
    for i in range(0, idx_max + 1):
        val = vals[i]
        if strip_leading_zero and not val:
            continue
        strip_leading_zero = False
        lines.append("        %-10d : %-8d |%-*s|" % (i, val, STARS_MAX, stars(val, val_max, STARS_MAX)))
    return "\n".join(lines) + ("\n" if lines else "")


def print_log2_hist(vals, val_type="value", strip_leading_zero=False, file=None):
    (file or sys.stdout).write(log2_hist_text(vals, val_type, strip_leading_zero))


def print_linear_hist(vals, val_type="value", strip_leading_zero=False, file=None):
    (file or sys.stdout).write(linear_hist_text(vals, val_type, strip_leading_zero))


def log2_hist_dict(vals, val_type="value", section_bucket=None):
    """bcc's print_json_hist record: ts, val_type, data [{interval-start,
    interval-end, count}], plus the section (name, value) when given."""
    data = [{"interval-start": b["low"], "interval-end": b["high"], "count": b["count"]}
            for b in log2_buckets(vals)]
    out = {"ts": time.strftime("%Y-%m-%d %H:%M:%S"), "val_type": val_type, "data": data}
    if section_bucket:
        out[section_bucket[0]] = section_bucket[1]
    return out


def print_json_hist(vals, val_type="value", section_bucket=None, file=None):
    # bcc prints the Python dict itself (not JSON text); keep that.
    print(log2_hist_dict(vals, val_type, section_bucket), file=file or sys.stdout)


LOG2_SLOTS = 65   # log2 slots of a u64, as the tools' BPF side fills them


def collect_sections(hist_map, section=None, slots=LOG2_SLOTS):
    """Empty a BPF map keyed by {..., slot} into {section: [count per slot]}.
    ``section(key)`` names a key's section (None: one histogram). Slot 0 is
    folded into slot 1, where bcc counts the value 0 ("0 -> 1")."""
    out = {}
    for key, count in hist_map.pop_all():
        sec = section(key) if section else None
        out.setdefault(sec, [0] * slots)[min(max(key.slot, 1), slots - 1)] += count
    return out


def sections_text(hists, label, header=None, shown=str):
    """Each section's log2 histogram in bcc's format, "\n<header> = <name>"
    above each when keyed."""
    out = []
    for sec in sorted(hists):
        if header:
            out.append("\n%s = %s\n" % (header, shown(sec)))
        out.append(log2_hist_text(hists[sec], label))
    return "".join(out)


def print_sections(hists, label, header=None, shown=str, json=False):
    """sections_text() on stdout; with json, bcc's -j: a print_json_hist
    record per section."""
    if not json:
        sys.stdout.write(sections_text(hists, label, header, shown))
        return
    for sec in sorted(hists):
        print_json_hist(hists[sec], label, (header, shown(sec)) if header else None)


def print_extension_summary(ext_map, label, show=True):
    """bcc's -e line ("avg = ..., total: ..., count: ...") from the one-slot
    {total, count} map the tools' BPF side fills (pybcc/extension.h), which
    is then reset for the next interval."""
    total, count = ext_map[0].total, ext_map[0].count
    if show and count > 0:
        print("\navg = %ld %s, total: %ld %s, count: %ld\n" %
              (total / count, label, total, label, count))
    ext_map[0] = (0, 0)


def take_extension(ext_map):
    """(total, count) of the -e summary's one-slot map (pybcc/extension.h)
    since the last call; the map is reset for the next interval."""
    total, count = ext_map[0].total, ext_map[0].count
    ext_map[0] = (0, 0)
    return total, count


def extension_text(total, count, label):
    """bcc's -e lines ("\navg = ..., total: ..., count: ...\n\n"), or "" when
    nothing was counted."""
    if count <= 0:
        return ""
    return "\navg = %ld %s, total: %ld %s, count: %ld\n\n" % (
        total / count, label, total, label, count)


def buckets_from_map(items, slots=None):
    """Turn {slot: count} into a dense list (as many slots as the largest used)."""
    items = dict(items)
    n = max(items, default=-1) + 1
    if slots is not None:
        n = max(n, slots)
    return [items.get(i, 0) for i in range(n)]


# --- JSON -----------------------------------------------------------------------


def log2_buckets(vals):
    """[{low, high, count}] for slots 1 .. the last non-empty one, with the
    bounds bcc's text shows (slot 1 is "0 -> 1")."""
    out = []
    for i in range(1, _last_nonzero(vals) + 1):
        low, high = (1 << i) >> 1, (1 << i) - 1
        if low == high:
            low -= 1
        out.append({"low": low, "high": high, "count": int(vals[i])})
    return out


def linear_buckets(vals, step=1, base=0):
    """[{low, high, count}] for linear slots of ``step`` from ``base``."""
    return [{"low": base + i * step, "high": base + (i + 1) * step - 1, "count": int(v)}
            for i, v in enumerate(vals[:_last_nonzero(vals) + 1])]


def sections_json(hists, unit, header=None, shown=str, buckets=log2_buckets):
    """One interval's histograms as one JSON object: the unit, and per
    section (a disk, a pid, ... named ``header``) its label and buckets."""
    return {"unit": unit, "histograms": [
        {"labels": {header: shown(sec)} if header else {}, "buckets": buckets(hists[sec])}
        for sec in sorted(hists)]}
