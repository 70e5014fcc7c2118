"""The classifier interface, NudeNet's detector as the real one, and a test-only one.

A classifier turns one JPEG into scores, label -> 0..1, and says which of its
labels count as nudity (:attr:`Classifier.flagged`); the policy looks only at
those, moderators see their scores. Classifiers run inside the worker
processes of :mod:`connect.framecheck.pool`, one instance per process, so
loading a model happens once per worker and never on the event loop.

* :class:`NudeNetClassifier` is the default: NudeNet's detector (the PyPI
  ``nudenet`` wheel ships its 320 px ONNX model; it runs on onnxruntime on the
  CPU). It is the optional extra ``connect[moderation-ai]``: AGPL-3.0 licensed
  (its wheel's licence files; the package metadata says MIT), so it is off
  unless the operator installs it and enables frame checking.
* :class:`TestColourClassifier` is for tests only and is named so: it really
  decodes the JPEG (Pillow) and scores how *red* the frame's mean colour is, so
  a test can make a frame that passes, one between the thresholds and one above
  the action threshold, without any image of a person.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    # Pillow is imported where a frame is decoded (a worker, or a node checking frames):
    # a node with frame checking off never loads it.
    from PIL import Image

NUDENET_FLAGGED = frozenset(
    {
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "ANUS_EXPOSED",
        "BUTTOCKS_EXPOSED",
    }
)
TEST_LABEL = "TEST_RED"
CLASSIFIERS = ("nudenet", "test-colour")
MAX_DIMENSION = 4096  # px on a side: a sampled frame is ~320 px; more is not a frame


class Classifier(Protocol):
    name: str
    flagged: frozenset[str]

    def classify(self, jpeg: bytes) -> dict[str, float]:
        """Scores (0..1) by label for one JPEG frame; labels not seen may be absent."""
        ...


class UndecodableFrame(ValueError):
    """The bytes are not a JPEG any decoder can read."""


def decode(jpeg: bytes) -> Image.Image:
    """The frame as RGB pixels (raises :class:`UndecodableFrame`)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(jpeg), formats=("JPEG",)) as img:
            if max(img.size) > MAX_DIMENSION:
                raise UndecodableFrame(f"larger than {MAX_DIMENSION} px on a side")
            img.draft("RGB", (img.width // 4 or 1, img.height // 4 or 1))
            return img.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UndecodableFrame(str(exc)) from exc


class TestColourClassifier:
    """FOR TESTS ONLY: scores a frame by how red its mean colour is.

    ``TEST_RED = max(0, mean red - max(mean green, mean blue)) / 255``: a pure red
    frame scores ~1.0, anything grey or natural ~0. The frame is really decoded,
    so a broken JPEG fails here as it would in the real model.
    """

    name = "test-colour"
    flagged = frozenset({TEST_LABEL})

    def classify(self, jpeg: bytes) -> dict[str, float]:
        from PIL import ImageStat

        r, g, b = ImageStat.Stat(decode(jpeg)).mean
        return {TEST_LABEL: round(max(0.0, r - max(g, b)) / 255.0, 4)}


class NudeNetClassifier:
    """NudeNet's detector (``connect[moderation-ai]``): a label's score is its best box.

    onnxruntime is pinned to one thread per worker process: the pool's size is
    then the number of cores the classifier uses, which is what the benchmark
    measures and the operator sizes (docs/benchmarks.md).
    """

    name = "nudenet"
    flagged = NUDENET_FLAGGED

    def __init__(self) -> None:
        import nudenet  # type: ignore[import-untyped]
        import onnxruntime  # type: ignore[import-untyped]

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        model = Path(nudenet.__file__).with_name("320n.onnx")
        self._detector: Any = nudenet.NudeDetector(model_path=str(model))
        self._detector.onnx_session = onnxruntime.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def classify(self, jpeg: bytes) -> dict[str, float]:
        decode(jpeg)  # the same refusal as every classifier, before OpenCV sees it
        scores: dict[str, float] = {}
        for found in self._detector.detect(jpeg):
            label = str(found["class"])
            scores[label] = max(scores.get(label, 0.0), round(float(found["score"]), 4))
        return scores


def installed(name: str) -> bool:
    """Whether ``name`` can be loaded here (NudeNet needs the optional extra)."""
    if name == "test-colour":
        return True
    if name == "nudenet":
        return all(importlib.util.find_spec(m) is not None for m in ("nudenet", "onnxruntime"))
    return False


def flagged_labels(name: str) -> frozenset[str]:
    return TestColourClassifier.flagged if name == "test-colour" else NUDENET_FLAGGED


def load(name: str) -> Classifier:
    if name == "test-colour":
        return TestColourClassifier()
    if name == "nudenet":
        return NudeNetClassifier()
    raise ValueError(f"unknown classifier {name!r} (one of {', '.join(CLASSIFIERS)})")
