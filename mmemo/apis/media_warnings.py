# Copyright (c) mmemo contributors. All rights reserved.
"""The ``warnings`` of an inference result: what about the input makes the
prediction weaker than it looks, in words.

Built from the ``media_report`` the loading transforms leave in a sample's
metainfo (streams, repairs, faces) and the window the model saw.
"""
from typing import List, Optional, Sequence

#: Audio that covers less than this share of the window is "much shorter".
MIN_AUDIO_SHARE = 0.5

#: Video codecs of single pictures (a still image given as the video).
IMAGE_CODECS = ('png', 'mjpeg', 'bmp', 'tiff', 'webp', 'gif', 'jpeg2000',
                'jpegls', 'pam', 'ppm', 'pgm', 'qoi')


def media_warnings(
        report: dict,
        window: Optional[Sequence[float]] = None,
        modalities: Sequence[str] = ('video', 'audio'),
) -> List[str]:
    """What a user should know about one input, as sentences.

    Args:
        report (dict): A sample's ``media_report``.
        window (sequence of float, optional): ``[start, end]`` seconds the
            model saw.
        modalities (sequence of str): The streams used.

    Returns:
        list[str]: Warnings (empty for a clean input).
    """
    out = []
    video = report.get('video') or {}
    if 'video' in modalities and video:
        frames = video.get('frames') or 0
        if frames <= 1 and video.get('codec') in IMAGE_CODECS:
            out.append('still image: the video is one picture '
                       f'({video.get("codec")}); the video branch sees it '
                       'unchanged throughout')
        elif frames <= 1:
            out.append('single frame: the video holds one frame; the video '
                       'branch sees it repeated')
    audio = report.get('audio') or {}
    span = None if window is None else float(window[1]) - float(window[0])
    if 'audio' in modalities and audio and span and span > 0:
        covered = audio.get('duration', 0.0)
        if covered < MIN_AUDIO_SHARE * span:
            out.append(f'audio much shorter than the window: '
                       f'{covered:.2f} s of audio for a {span:.2f} s window '
                       '(the rest is silence)')
    if report.get('face_frames') and not report.get('faces_found'):
        out.append(f'no face found in the {report["face_frames"]} sampled '
                   'frames: the video branch saw the fallback crop')
    for key, what in (('audio_padded', 'audio padded with {:.2f} s of '
                       'silence to the video\'s length'),
                      ('audio_trimmed', 'audio trimmed by {:.2f} s to the '
                       'video\'s length')):
        if report.get(key):
            out.append(what.format(report[key]))
    for stream in ('audio', 'video'):
        corrupt = report.get(f'{stream}_corrupt_packets')
        concealed = report.get(f'{stream}_concealed_packets')
        if corrupt:
            out.append(f'{stream}: skipped {corrupt} corrupt packet(s)')
        if concealed:
            out.append(f'{stream}: {concealed} damaged packet(s) concealed '
                       'by the decoder')
    return out
