# Copyright (c) mmemo contributors. All rights reserved.
"""Audio-visual emotion recognition on one file, in sliding windows.

    python demo/demo_av.py VIDEO CONFIG CHECKPOINT [--audio AUDIO] \\
        [--device cpu] [--window 2.0] [--stride 1.0] [--out-json out.json] \\
        [--plot out.png] [--out-video out.mp4]

VIDEO is any container PyAV reads (mp4, flv, avi, mkv, mpg, ...), with or
without an audio track, or an audio file alone (wav, ...). Every window is
classified with :func:`mmemo.apis.inference_av` (the config's test
pipeline: face crop, aligned audio features); a missing modality is fed as
zeros and the prediction is marked video-only or audio-only. Outputs: a
JSON summary, a plot (class probabilities and the label timeline, or the
valence/arousal curves) and an annotated copy of the video (the face box
and the current window's emotion drawn on every frame, the audio muxed
back in).
"""
import argparse
import math
import os
import os.path as osp
from fractions import Fraction
from typing import Dict, List, Optional, Sequence

import numpy as np

#: Height of the label banner drawn at the top of each frame (pixels).
BANNER_HEIGHT = 28
BOX_COLOR = (0, 255, 0)  # RGB
TEXT_COLOR = (255, 255, 255)
#: Window length when the config has none (seconds).
FALLBACK_WINDOW = 2.0


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line arguments of the demo."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='mmemo audio-visual emotion recognition demo: sliding '
        'windows over a video (or an audio file)')
    parser.add_argument('video', help='video file (or an audio-only file)')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument(
        '--audio',
        default=None,
        help='separate audio file (e.g. a RAVDESS / CREMA-D wav) used '
        "instead of the video's own track")
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--window',
        type=float,
        default=None,
        help='window length in seconds (default: the config\'s clip length, '
        f'else {FALLBACK_WINDOW})')
    parser.add_argument(
        '--stride',
        type=float,
        default=None,
        help='seconds between window starts (default: half the window; '
        'the window itself for valence/arousal models)')
    parser.add_argument('--out-json', default=None, help='JSON summary')
    parser.add_argument('--plot', default=None, help='PNG plot')
    parser.add_argument(
        '--out-video',
        default=None,
        help='annotated copy of the video (H.264; mp4 recommended)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as in tools/test.py')
    from mmemo.utils.cli import add_debug_argument
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    for name in ('window', 'stride'):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f'--{name} must be > 0, got {value}')
    return args


# ------------------------------------------------------------------- media
def media_info(video: str, audio: Optional[str] = None) -> dict:
    """Streams, duration and frame rate of the input.

    Args:
        video (str): The video (or audio-only) file.
        audio (str, optional): A separate audio file.

    Returns:
        dict: ``has_video``, ``has_audio`` (the input, with ``audio``),
        ``duration`` (s), ``fps``, ``num_frames``, ``width``, ``height``
        (None for an audio file).
    """
    from mmemo.datasets.media import check_media, media_duration, probe_video
    # check_media says what a path is when it is no media file (missing,
    # a directory, a FIFO, a broken link, a git-lfs pointer)
    has_video, has_audio = check_media(video, 'video')
    if audio is not None:
        has_audio = check_media(audio, 'audio')[1]
    info = dict(
        has_video=has_video,
        has_audio=has_audio,
        fps=None,
        num_frames=None,
        width=None,
        height=None)
    if has_video:
        probe = probe_video(video)
        info.update(
            duration=probe.duration,
            fps=probe.fps,
            num_frames=probe.num_frames,
            width=probe.width,
            height=probe.height)
    else:
        info['duration'] = media_duration(audio or video)
    return info


def window_starts(duration: float, window: float,
                  stride: float) -> List[float]:
    """Window starts covering ``[0, duration]``: every ``stride`` seconds,
    plus one ending at the end of the media if the last one stops short.

    Args:
        duration (float): Length of the media, s.
        window (float): Window length, s.
        stride (float): Step between starts, s.

    Returns:
        list[float]: ``max(1, ceil((duration - window) / stride) + 1)``
        starts (one at 0 when the media is shorter than a window).
    """
    if duration <= window + 1e-6:
        return [0.0]
    count = int(math.floor((duration - window) / stride + 1e-6)) + 1
    starts = [round(i * stride, 6) for i in range(count)]
    if starts[-1] + window < duration - 1e-3:
        starts.append(round(duration - window, 6))
    return starts


# --------------------------------------------------------------- inference
def run_windows(inferencer,
                video: str,
                audio: Optional[str],
                starts: Sequence[float],
                window: float,
                show_progress: bool = True) -> List[dict]:
    """The inferencer on every window, with a progress bar.

    The video is probed and the audio decoded once for all windows.
    """
    items = [
        dict(video=video, audio=audio, start=start, duration=window)
        for start in starts
    ]
    inferencer.show_progress = show_progress
    return inferencer(items, media_cache={})['predictions']


def _note(modalities: Sequence[str], info: dict) -> Optional[str]:
    if modalities == ['video']:
        return ('video-only prediction: the input has no audio track; the '
                'audio input was zeros')
    if modalities == ['audio']:
        return ('audio-only prediction: the input has no video stream; the '
                'video input was zeros')
    return None


def summarize(results: List[dict], info: dict, args: argparse.Namespace,
              window: float, stride: float, model) -> dict:
    """The JSON summary of the windows' results."""
    first = results[0]
    modalities = first['modalities']
    summary = dict(
        file=args.video,
        audio=args.audio,
        config=args.config,
        checkpoint=args.checkpoint,
        task=first['task'],
        duration=info['duration'],
        fps=info['fps'],
        num_frames=info['num_frames'],
        modalities=modalities,
        note=_note(modalities, info),
        window=window,
        stride=stride,
        num_windows=len(results))
    windows = []
    if first['task'] == 'classification':
        summary['classes'] = first['classes']
        for r in results:
            entry = dict(
                start=r['window'][0],
                end=r['window'][1],
                label=r['label'],
                scores=r['scores'])
            for key in ('modality_scores', 'frame_times', 'face_boxes'):
                if key in r:
                    entry[key] = r[key]
            windows.append(entry)
        mean = np.mean([r['scores'] for r in results], axis=0)
        summary['overall'] = dict(
            label=first['classes'][int(np.argmax(mean))],
            scores=[float(v) for v in mean])
    else:
        for r in results:
            windows.append(
                dict(
                    start=r['window'][0],
                    end=r['window'][1],
                    times=r['times'],
                    valence=r['valence'],
                    arousal=r['arousal']))
        times, valence, arousal = va_timeline(windows)
        summary['timeline'] = dict(
            times=times.tolist(),
            valence=valence.tolist(),
            arousal=arousal.tolist())
        summary['overall'] = dict(
            valence=float(np.nanmean(valence)),
            arousal=float(np.nanmean(arousal)))
    summary['windows'] = windows
    # every window's warnings, once, in order
    summary['warnings'] = list(
        dict.fromkeys(w for r in results for w in r.get('warnings', ())))
    return summary


def va_timeline(windows: List[dict]) -> tuple:
    """Per-frame valence/arousal over all windows (overlaps averaged)."""
    values: Dict[float, list] = {}
    for w in windows:
        for t, v, a in zip(w['times'], w['valence'], w['arousal']):
            values.setdefault(round(t, 6), []).append((v, a))
    times = np.array(sorted(values))
    mean = np.array([np.mean(values[t], axis=0) for t in times]).reshape(-1, 2)
    return times, mean[:, 0], mean[:, 1]


# -------------------------------------------------------------------- plot
def plot_summary(summary: dict, path: str) -> None:
    """Class probabilities and the label timeline, or valence/arousal."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    windows = summary['windows']
    title = osp.basename(summary['file'])
    if summary.get('note'):
        title += ' (' + summary['note'].split(':')[0] + ')'
    if summary['task'] == 'classification':
        classes = summary['classes']
        centres = [(w['start'] + w['end']) / 2 for w in windows]
        scores = np.array([w['scores'] for w in windows])
        fig, (ax1, ax2) = plt.subplots(
            2,
            1,
            figsize=(9, 6),
            sharex=True,
            gridspec_kw=dict(height_ratios=[2, 1]))
        for k, name in enumerate(classes):
            ax1.plot(centres, scores[:, k], marker='o', label=name)
        ax1.set_ylabel('probability')
        ax1.set_ylim(0, 1)
        ax1.legend(fontsize=7, ncol=2, loc='upper right')
        colors = plt.get_cmap('tab10')
        # the label shown at each time (the window of the nearest centre,
        # as in the annotated video)
        bounds = [windows[0]['start']] + [
            (a + b) / 2 for a, b in zip(centres[:-1], centres[1:])
        ] + [windows[-1]['end']]
        for w, lo, hi in zip(windows, bounds[:-1], bounds[1:]):
            k = classes.index(w['label'])
            ax2.broken_barh([(lo, hi - lo)], (k - 0.4, 0.8),
                            facecolors=colors(k % 10))
        ax2.set_yticks(range(len(classes)))
        ax2.set_yticklabels(classes, fontsize=7)
        ax2.set_ylim(-0.5, len(classes) - 0.5)
        ax2.set_xlabel('time (s)')
        ax2.set_ylabel('label per window')
        ax1.set_title(title)
    else:
        timeline = summary['timeline']
        fig, ax = plt.subplots(figsize=(9, 4))
        ax.plot(timeline['times'], timeline['valence'], label='valence')
        ax.plot(timeline['times'], timeline['arousal'], label='arousal')
        ax.axhline(0, color='gray', linewidth=0.5)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel('time (s)')
        ax.legend()
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------- annotated video
def window_at(summary: dict, t: float) -> dict:
    """The window shown at time ``t``: among those covering ``t``, the one
    whose centre is nearest (else the nearest window)."""
    windows = summary['windows']
    covering = [w for w in windows if w['start'] <= t < w['end']] or windows
    return min(covering, key=lambda w: abs((w['start'] + w['end']) / 2 - t))


def box_at(window: dict, t: float) -> Optional[List[float]]:
    """The window's face box of the sampled frame nearest to ``t``."""
    boxes = window.get('face_boxes')
    times = window.get('frame_times')
    if not boxes or not times:
        return None
    return boxes[int(np.argmin(np.abs(np.asarray(times) - t)))]


def caption(summary: dict, window: dict, t: float) -> str:
    """The text drawn on the frame at time ``t``."""
    if summary['task'] == 'classification':
        k = summary['classes'].index(window['label'])
        text = f'{window["label"]} {window["scores"][k]:.2f}'
    else:
        i = int(np.argmin(np.abs(np.asarray(window['times']) - t)))
        text = (f'valence {window["valence"][i]:+.2f} '
                f'arousal {window["arousal"][i]:+.2f}')
    if summary['modalities'] == ['video']:
        text += ' (video only)'
    return text


def draw(frame: np.ndarray, text: str,
         box: Optional[Sequence[float]]) -> np.ndarray:
    """Draw the face box and a banner with the text on an RGB frame."""
    import cv2
    frame = np.ascontiguousarray(frame)
    if box is not None:
        x1, y1, x2, y2 = [int(round(v)) for v in box]
        cv2.rectangle(frame, (x1, y1), (x2 - 1, y2 - 1), BOX_COLOR, 2)
    banner = min(BANNER_HEIGHT, frame.shape[0])
    frame[:banner] = (frame[:banner] * 0.3).astype(np.uint8)
    cv2.putText(frame, text, (6, banner - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                TEXT_COLOR, 1, cv2.LINE_AA)
    return frame


def _audio_packets(path: str, out_stream, max_seconds: float) -> list:
    """Encode the first audio track of ``path`` for ``out_stream``.

    The track is decoded as training decodes it (corrupt packets skipped,
    any channel layout read without PyAV's plane walk, which crashes on 7.1
    audio) and mixed to the stream's mono or stereo in NumPy.
    """
    import av

    from mmemo.datasets.media import decode_audio
    rate = out_stream.codec_context.sample_rate
    samples, _, _ = decode_audio(path, rate, mono=False)  # [C, S]
    stereo = out_stream.codec_context.layout.name == 'stereo'
    if stereo and samples.shape[0] >= 2:
        # the first two channels are front left / right in every layout
        mix = samples[:2]
    else:
        mix = np.repeat(
            samples.mean(axis=0, keepdims=True), 2 if stereo else 1, axis=0)
    mix = np.ascontiguousarray(mix[:, :int(round(max_seconds * rate))].T,
                               np.float32)  # [S, C]
    frame_size = out_stream.codec_context.frame_size or 1024
    packets = []
    for first in range(0, len(mix), frame_size):
        chunk = mix[first:first + frame_size]
        if len(chunk) < frame_size:  # the encoder wants whole frames
            chunk = np.pad(chunk, ((0, frame_size - len(chunk)), (0, 0)))
        frame = av.AudioFrame.from_ndarray(
            chunk.reshape(1, -1),
            format='flt',
            layout='stereo' if stereo else 'mono')
        frame.rate, frame.pts = rate, first
        frame.time_base = Fraction(1, rate)
        packets.extend(out_stream.encode(frame))
    packets.extend(out_stream.encode(None))
    return packets


def write_annotated_video(summary: dict, video: str, audio: Optional[str],
                          out_path: str) -> int:
    """Copy the video with the face box and the window's emotion drawn.

    H.264 (yuv420p) at the input's frame rate, one output frame per input
    frame; the audio (the separate file, else the video's track) is
    re-encoded to AAC and muxed back in, cut at the end of the video.

    Returns:
        int: Frames written.
    """
    import av
    import cv2
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    audio_source = audio
    with av.open(video) as probe:
        if audio_source is None and probe.streams.audio:
            audio_source = video
        in_video = probe.streams.video[0]
        rate = in_video.average_rate or in_video.guessed_rate
    rate = Fraction(rate).limit_denominator(100000)
    fps = float(rate)
    num_frames = summary.get('num_frames') or 0
    written = 0
    with av.open(video) as inp, av.open(out_path, 'w') as out:
        in_video = inp.streams.video[0]
        width = in_video.codec_context.width
        height = in_video.codec_context.height
        out_width, out_height = width + width % 2, height + height % 2
        out_video = out.add_stream('libx264', rate=rate)
        out_video.width, out_video.height = out_width, out_height
        out_video.pix_fmt = 'yuv420p'
        out_video.codec_context.time_base = 1 / rate
        out_video.options = {'crf': '18', 'preset': 'veryfast'}
        audio_packets = []
        if audio_source is not None:
            from mmemo.datasets.media import open_audio_container
            with open_audio_container(audio_source) as src:
                in_audio = src.streams.audio[0]
                sample_rate = in_audio.codec_context.sample_rate
                channels = in_audio.codec_context.channels
            out_audio = out.add_stream(
                'aac',
                rate=sample_rate,
                layout='mono' if channels == 1 else 'stereo')
            audio_packets = _audio_packets(
                audio_source, out_audio,
                (num_frames or 0) / fps if num_frames else summary['duration'])
        pending = list(audio_packets)

        def mux_audio_until(t: float) -> None:
            while pending and pending[0].pts is not None and float(
                    pending[0].pts * pending[0].time_base) <= t:
                out.mux(pending.pop(0))

        for index, frame in enumerate(inp.decode(in_video)):
            t = index / fps
            window = window_at(summary, t)
            image = draw(
                frame.to_ndarray(format='rgb24'), caption(summary, window, t),
                box_at(window, t))
            if (out_width, out_height) != (width, height):
                image = cv2.copyMakeBorder(image, 0, out_height - height, 0,
                                           out_width - width,
                                           cv2.BORDER_REPLICATE)
            new = av.VideoFrame.from_ndarray(image, format='rgb24')
            new = new.reformat(format='yuv420p')
            new.pts, new.time_base = index, 1 / rate
            mux_audio_until(t)
            out.mux(out_video.encode(new))
            written += 1
        out.mux(out_video.encode(None))
        mux_audio_until(float('inf'))
        out.mux(pending)
    return written


# -------------------------------------------------------------------- main
def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Run the demo; return the JSON summary."""
    args = parse_args(argv)
    import mmemo  # noqa: F401  (compat shims first)
    from mmemo.apis import AVInferencer
    from mmemo.datasets import VASequenceDataset
    info = media_info(args.video, args.audio)
    inferencer = AVInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        cfg_options=args.cfg_options)
    model = inferencer.model
    dataset = inferencer.dataset
    is_va = isinstance(dataset, VASequenceDataset)
    window = args.window or inferencer.clip_duration
    if window is None and is_va:
        # one block of the VA test windows: seq_len sub-clips `stride` apart
        window = dataset.seq_len * dataset.sub_clip_stride / (
            info['fps'] or 25.0)
    window = window or FALLBACK_WINDOW
    stride = args.stride or (window if is_va else window / 2)
    starts = window_starts(info['duration'], window, stride)
    print(f'{args.video}: {info["duration"]:.2f} s, '
          f'{len(starts)} window(s) of {window:g} s every {stride:g} s')
    results = run_windows(inferencer, args.video, args.audio, starts, window)
    summary = summarize(results, info, args, window, stride, model)
    if summary['note']:
        print(f'Note: {summary["note"]}')
    for warning in summary['warnings']:
        print(f'Warning: {warning}')
    if summary['task'] == 'classification':
        print(f'Overall: {summary["overall"]["label"]} (mean of '
              f'{len(results)} windows)')
    else:
        print(f'Overall: valence {summary["overall"]["valence"]:+.3f}, '
              f'arousal {summary["overall"]["arousal"]:+.3f}')
    summary['out_video'] = None
    if args.out_video:
        if not info['has_video']:
            reason = (f'{args.video} has no video stream (audio-only '
                      'input): no annotated video is written')
            print(f'--out-video: {reason}')
            summary['out_video_skipped'] = reason
        else:
            print(f'Writing {args.out_video} ...')
            frames = write_annotated_video(summary, args.video, args.audio,
                                           args.out_video)
            summary['out_video'] = args.out_video
            print(f'Annotated video: {args.out_video} ({frames} frames)')
    if args.plot:
        plot_summary(summary, args.plot)
        print(f'Plot: {args.plot}')
    if args.out_json:
        os.makedirs(
            osp.dirname(osp.abspath(args.out_json)) or '.', exist_ok=True)
        with open(args.out_json, 'w') as f:
            from mmemo.utils import strict_json
            strict_json.dump(summary, f, indent=1)
        print(f'JSON: {args.out_json}')
    return summary


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
