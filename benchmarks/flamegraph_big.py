"""Draw a flame graph of 100,000 unique synthetic stacks and time it:
Python render, SVG size, frames drawn, Chromium load, search and zoom.

    python3 benchmarks/flamegraph_big.py [STACKS] [--keep DIR]
"""
import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from pybcc.output import flamegraph  # noqa: E402


def synthetic_stacks(n, seed=1):
    """n unique stacks shaped like a real profile: a few hot paths, a long tail,
    depths of 5 to 45, counts skewed (most stacks seen once)."""
    rng = random.Random(seed)
    comms = ["python3", "postgres", "nginx", "java", "swapper/0", "kworker/u8:1"]
    funcs = ["f%04d" % i for i in range(3000)]
    kernel = ["k%03d_[k]" % i for i in range(400)]
    stacks = {}
    while len(stacks) < n:
        depth = rng.randint(5, 45)
        frames = [rng.choice(comms)]
        for level in range(depth):
            # Low levels pick among few names (shared paths), high levels among many.
            width = min(len(funcs), 2 + level ** 3)
            frames.append(funcs[int(rng.paretovariate(1.2)) % width])
        if rng.random() < 0.4:
            frames += [kernel[int(rng.paretovariate(1.5)) % len(kernel)] for _ in range(rng.randint(2, 12))]
        stacks[";".join(frames)] = int(rng.paretovariate(1.1))
    return stacks


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("stacks", nargs="?", type=int, default=100000)
    p.add_argument("--keep", help="keep the SVG in this directory")
    args = p.parse_args()
    stacks = synthetic_stacks(args.stacks)
    t = time.perf_counter()
    svg = flamegraph.render(stacks, subtitle="synthetic: %d unique stacks" % len(stacks))
    render_s = time.perf_counter() - t
    frames = len(flamegraph.read_frames(svg))
    out_dir = args.keep or tempfile.mkdtemp(prefix="pybcc-fg-")
    path = os.path.join(out_dir, "big.svg")
    with open(path, "w") as f:
        f.write(svg)
    print("stacks %d, samples %d, frames drawn %d, SVG %d bytes, python render %.2f s"
          % (len(stacks), sum(stacks.values()), frames, len(svg.encode()), render_s))
    import browser
    driver = browser.start_browser()
    try:
        t = time.perf_counter()
        driver.get("file://" + path)
        driver.execute_script("return window.flamegraph.frames")
        load_s = time.perf_counter() - t
        times = driver.execute_script("""
            var t0 = performance.now(); var c = window.flamegraph.search("f00[0-4]");
            var t1 = performance.now(); window.flamegraph.resetSearch();
            var t2 = performance.now(); window.flamegraph.zoom(1);
            var t3 = performance.now(); window.flamegraph.unzoom();
            var t4 = performance.now();
            return [t1 - t0, t2 - t1, t3 - t2, t4 - t3];""")
        # Time until the browser has painted after a search (layout + paint included).
        paint_ms = driver.execute_async_script("""
            var done = arguments[0]; var t0 = performance.now();
            window.flamegraph.search("k0[0-9]");
            requestAnimationFrame(function () { setTimeout(function () { done(performance.now() - t0); }, 0); });""")
        shot = os.path.join(out_dir, "big.png")
        driver.save_screenshot(shot)
    finally:
        browser.stop_browser(driver)
    print("chromium: load+render %.2f s, search %.0f ms (painted %.0f ms), reset search %.0f ms, "
          "zoom %.0f ms, unzoom %.0f ms" % (load_s, times[0], paint_ms, times[1], times[2], times[3]))
    print("kept", path, shot)


if __name__ == "__main__":
    main()
