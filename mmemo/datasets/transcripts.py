# Copyright (c) mmemo contributors. All rights reserved.
"""Reading segmented ASR transcripts: the text stream's input.

Two formats, one :class:`TranscriptSegment` list per video:

- ``'maven'`` (MAVEN, Aff-Wild2; one file per video): one segment per line,
  ``[s–e s] text``, e.g. ``[0.00 – 2.48 s] hello there``. The dash may be
  ``-``, ``–`` or ``—``, spaces are optional and so is the ``s`` after
  either number. As in MAVEN's ``embeddings.py``, a segment runs from the
  *previous* segment's end (0 for the first) to its own end: the start
  written on the line is checked (``start <= end``) but not used, and the
  ends must not decrease. A transcript without any segment line (no
  speech) is one segment ``[0, duration]`` with empty text.
- ``'mosei'`` (CMU-MOSEI ``Raw/Transcript/Segmented/Combined/<video_id>
  .txt``): ``<video_id>___<segment_id>___<start>___<end>___<text>`` per
  line; the segments keep the written start and end and the file order.
  The spec (datasets.md §3) names only the ``Raw/Transcript`` folder; the
  line layout is the one of the released files. The file name (without
  extension) must be the video id every line starts with (YouTube ids may
  contain ``_`` and ``-``); the segment id must be an integer.

Blank lines are ignored. Every problem raises :class:`TranscriptError`
naming the file and the line number (``path:line: problem``).
"""
import os.path as osp
import re
from typing import Callable, Dict, List, NamedTuple, Optional

_NUM = r'(\d+(?:\.\d*)?|\.\d+)'  # seconds, e.g. 12, 12.5, .5
MAVEN_LINE = re.compile(r'^\[\s*' + _NUM + r'\s*s?\s*[-–—]\s*' + _NUM +
                        r'\s*s?\s*\]\s*(.*)$')
# after "<video_id>___": the video id is known from the file name
MOSEI_REST = re.compile(r'^(\d+)___\s*' + _NUM + r'\s*___\s*' + _NUM +
                        r'\s*___(.*)$')


class TranscriptSegment(NamedTuple):
    """One segment of a transcript.

    Attributes:
        start (float): Start time in seconds.
        end (float): End time in seconds.
        text (str): The words spoken in it (stripped; may be empty).
    """
    start: float
    end: float
    text: str


class TranscriptError(ValueError):
    """A transcript cannot be parsed: ``path:line: problem``.

    Args:
        path (str): The transcript file.
        line (int, optional): 1-based line number.
        problem (str): What is wrong.
    """

    def __init__(self, path: str, line: Optional[int], problem: str) -> None:
        where = f'{path}:{line}' if line is not None else path
        super().__init__(f'{where}: {problem}')
        self.path = path
        self.line = line
        self.problem = problem

    def __reduce__(self):
        return type(self), (self.path, self.line, self.problem)


class EmptyTranscriptError(TranscriptError):
    """A MAVEN transcript has no segment and the video's duration, which
    its single segment would span, was not given."""

    def __init__(self, path: str) -> None:
        super().__init__(
            path, None, 'the transcript is empty (no speech): its single '
            'segment spans the whole video, whose duration is not known '
            '(give the duration)')

    def __reduce__(self):
        return type(self), (self.path, )


def _read_lines(path: str) -> List[str]:
    """Lines of a UTF-8 text file (BOM and line ends removed)."""
    with open(path, 'rb') as f:
        raw = f.read()
    lines = []
    for number, line in enumerate(raw.splitlines(), 1):
        try:
            lines.append(line.decode('utf-8-sig' if number == 1 else 'utf-8'))
        except UnicodeDecodeError as e:
            raise TranscriptError(path, number, f'not UTF-8 ({e})') from e
    return lines


def parse_maven_transcript(
        path: str,
        duration: Optional[float] = None) -> List[TranscriptSegment]:
    """Read a MAVEN-style transcript (``[s–e s] text`` lines).

    Args:
        path (str): The transcript file.
        duration (float, optional): The video's length in seconds; only
            needed, and then required, when the transcript has no segment
            (else :class:`EmptyTranscriptError`).

    Returns:
        list[TranscriptSegment]: The segments, each from the previous
        segment's end to its own end.
    """
    segments: List[TranscriptSegment] = []
    previous_end = 0.0
    for number, line in enumerate(_read_lines(path), 1):
        line = line.strip()
        if not line:
            continue
        match = MAVEN_LINE.match(line)
        if match is None:
            raise TranscriptError(
                path, number, f'expected "[start–end s] text", got {line!r}')
        start, end = float(match.group(1)), float(match.group(2))
        if end < start:
            raise TranscriptError(
                path, number, f'segment ends ({end}) before it starts '
                f'({start})')
        if end < previous_end:
            raise TranscriptError(
                path, number, f'segment end {end} is before the previous '
                f'segment end {previous_end} (segments must be in order)')
        segments.append(
            TranscriptSegment(previous_end, end,
                              match.group(3).strip()))
        previous_end = end
    if segments:
        return segments
    if duration is None:
        raise EmptyTranscriptError(path)
    return [TranscriptSegment(0.0, float(duration), '')]


def parse_mosei_transcript(
        path: str,
        duration: Optional[float] = None) -> List[TranscriptSegment]:
    """Read a CMU-MOSEI segmented transcript.

    Args:
        path (str): ``.../Segmented/Combined/<video_id>.txt``.
        duration (float, optional): Unused (the segments carry their
            times); accepted for the same signature as
            :func:`parse_maven_transcript`.

    Returns:
        list[TranscriptSegment]: The segments in file order.
    """
    video_id = osp.splitext(osp.basename(path))[0]
    prefix = f'{video_id}___'
    segments: List[TranscriptSegment] = []
    for number, line in enumerate(_read_lines(path), 1):
        line = line.strip()
        if not line:
            continue
        match = MOSEI_REST.match(line[len(prefix):]) \
            if line.startswith(prefix) else None
        if match is None:
            raise TranscriptError(
                path, number, f'expected "{video_id}___<segment_id>___'
                f'<start>___<end>___<text>" (the video id is the file '
                f'name), got {line!r}')
        start, end = float(match.group(2)), float(match.group(3))
        if end < start:
            raise TranscriptError(
                path, number, f'segment ends ({end}) before it starts '
                f'({start})')
        segments.append(TranscriptSegment(start, end, match.group(4).strip()))
    if not segments:
        raise TranscriptError(path, None, 'no segment line')
    return segments


TRANSCRIPT_FORMATS: Dict[str, Callable[..., List[TranscriptSegment]]] = {
    'maven': parse_maven_transcript,
    'mosei': parse_mosei_transcript,
}


def load_transcript(
        path: str,
        fmt: str = 'maven',
        duration: Optional[float] = None) -> List[TranscriptSegment]:
    """Read a transcript in one of :data:`TRANSCRIPT_FORMATS`.

    Args:
        path (str): The transcript file.
        fmt (str): ``'maven'`` or ``'mosei'``. Defaults to ``'maven'``.
        duration (float, optional): The video's length in seconds (see
            :func:`parse_maven_transcript`).

    Returns:
        list[TranscriptSegment]: The segments.
    """
    if fmt not in TRANSCRIPT_FORMATS:
        raise ValueError(f'unknown transcript format {fmt!r}; choose one of '
                         f'{sorted(TRANSCRIPT_FORMATS)}')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: transcript not found')
    return TRANSCRIPT_FORMATS[fmt](path, duration)
