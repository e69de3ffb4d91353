"""Image processing cost: time and peak memory of `render` for a 12-megapixel phone JPEG and for the worst
upload the limits allow, and the Lambda memory size that follows. Run: `python -m bench.images`.

Each measurement runs in a fresh interpreter (one `render` per process) and reads its peak resident set
size from /proc/self/status (VmHWM): unlike getrusage's ru_maxrss, it is not inherited from the parent
across fork/exec. Pillow's pixel buffers are allocated in C and invisible to tracemalloc, which is
reported too, for the Python-side bytes (input, encoded outputs). Times are the median of RUNS renders in
one warm process (the Lambda's warm case; a cold start adds the Pillow import, printed apart).
Linux only (/proc), like Lambda.
"""

from __future__ import annotations

import io
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
# The Lambda runtime's own process (bootstrap, runtime interface client) next to what we measure here.
LAMBDA_RUNTIME_MB = 40
# Warm containers keep freed memory fragmented between invocations; never plan to the last megabyte.
HEADROOM = 1.5
# Lambda gives CPU in proportion to memory, one full vCPU at 1769 MB. render is single-threaded.
ONE_VCPU_MB = 1769
MEMORY_STEPS = (512, 1024, 1536, 1769, 2048, 3008)

_CHILD = """
import json, sys, time, tracemalloc

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

t0 = time.perf_counter()
from chalicelib.images import processing
import PIL.Image, PIL.WebPImagePlugin, PIL.JpegImagePlugin, PIL.PngImagePlugin
import_ms = (time.perf_counter() - t0) * 1000
data = open(sys.argv[1], "rb").read()
before = peak_mb()
tracemalloc.start()
t1 = time.perf_counter()
rendered = processing.render(data)
seconds = time.perf_counter() - t1
_, traced_peak = tracemalloc.get_traced_memory()
after = peak_mb()
print(json.dumps({
    "import_ms": import_ms, "first_render_s": seconds,
    "rss_before_mb": before, "rss_peak_mb": after,
    "render_rss_mb": after - before, "tracemalloc_peak_mb": traced_peak / 2**20,
    "renditions": [[r.box, r.width, r.height, len(r.data)] for r in rendered.renditions],
}))
"""


def phone_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A 12 MP photo as a phone stores it: detailed content (JPEG of ~4-5 MB at quality 90), portrait
    orientation tag and GPS position, like a shop owner's photo of their shelf."""
    from PIL import Image, ImageDraw

    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    texture = Image.effect_mandelbrot((width, height), (-2.2, -1.2, 1.0, 1.2), 80).convert("RGB")
    photo = Image.blend(base, texture, 0.5)
    draw = ImageDraw.Draw(photo)
    for i in range(120):  # "products on a shelf": hard edges JPEG has to spend bits on
        x, y = (i * 331) % width, (i * 197) % height
        draw.rectangle((x, y, x + 260, y + 380), fill=((i * 40) % 256, (i * 90) % 256, (i * 150) % 256))
    # Sensor noise, per channel: what makes a real photo's JPEG several megabytes.
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 50) for _ in range(3)])
    photo = Image.blend(photo, noise, 0.25)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (51.0, 3.0, 15.5), 3: "E", 4: (3.0, 43.0, 19.0)}
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def worst_png() -> bytes:
    """The most memory an accepted upload can take: just under MAX_PIXELS, RGBA, as a PNG (no reduced-scale
    decode exists for PNG or WebP) still under the size limit."""
    from PIL import Image

    from chalicelib.images.processing import MAX_PIXELS

    side = math.isqrt(MAX_PIXELS)
    width, height = side + 200, MAX_PIXELS // (side + 200)
    grey = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGBA", (grey, grey.transpose(Image.Transpose.ROTATE_180), grey, grey))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def measure(name: str, data: bytes) -> dict[str, Any]:
    from chalicelib.images import processing

    with tempfile.NamedTemporaryFile(suffix=".bin") as file:
        file.write(data)
        file.flush()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, file.name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
    child = json.loads(done.stdout.strip().splitlines()[-1])
    processing.render(data)  # warm-up
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        processing.render(data)
        times.append(time.perf_counter() - started)
    return {
        "name": name,
        "bytes": len(data),
        "median_s": statistics.median(times),
        "min_s": min(times),
        **child,
    }


def memory_size(worst_peak_mb: float) -> int:
    """The smallest usual Lambda memory size that holds the worst accepted upload's peak with headroom."""
    needed = (LAMBDA_RUNTIME_MB + worst_peak_mb) * HEADROOM
    return next(step for step in MEMORY_STEPS if step >= needed)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    photo = measure("12 MP phone JPEG (4000x3000)", phone_jpeg())
    results = [photo, measure("50 MP RGBA PNG (worst case)", worst_png())]
    widths = (-30, 8, 8, 8, 9, 12, 7)
    header = ("upload", "size", "median", "min", "peak RSS", "render +RSS", "traced")
    print(" ".join(f"{h:<{-w}}" if w < 0 else f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for r in results:
        size, median, fastest = r["bytes"] / 2**20, r["median_s"] * 1000, r["min_s"] * 1000
        print(
            f"{r['name']:<30} {size:>6.1f}MB {median:>6.0f}ms {fastest:>6.0f}ms {r['rss_peak_mb']:>7.0f}MB"
            f" {r['render_rss_mb']:>10.0f}MB {r['tracemalloc_peak_mb']:>5.0f}MB"
        )
        print(f"{'':<30} renditions [box, width, height, bytes]: {r['renditions']}")
    print(f"Pillow + processing import (the image Lambda's cold start): {photo['import_ms']:.0f} ms")
    worst = max(r["rss_peak_mb"] for r in results)
    memory = memory_size(worst)
    print(
        f"Lambda memory for process_image_uploads: {memory} MB = smallest of {MEMORY_STEPS} >= "
        f"({LAMBDA_RUNTIME_MB} MB runtime + {worst:.0f} MB worst peak) x {HEADROOM}"
    )
    share = min(1.0, memory / ONE_VCPU_MB)
    estimate, measured = photo["median_s"] / share * 1000, photo["median_s"] * 1000
    print(
        f"At {memory} MB ({share:.2f} vCPU) a 12 MP photo renders in about {estimate:.0f} ms"
        f" (measured {measured:.0f} ms on one core here; plus S3 transfer time)"
    )


if __name__ == "__main__":
    main()
