# Copyright (c) mmemo contributors. All rights reserved.
"""Speed and memory benchmarks that print ratios measured in one run.

Every benchmark measures its reference in the same run (and, where it can,
interleaved with the measured path), so the ratios hold on a busy machine
where absolute times do not. Nothing here is a unit test: the numbers are
printed, never asserted.

``all`` runs everything, each benchmark in a child process of its own (so
its peak resident memory is its own), prints one table and writes it with
``--out`` as JSON and Markdown::

    python tools/benchmark.py all                       # a few minutes, CPU
    python tools/benchmark.py all --quick --out bench   # tiny settings
    python tools/benchmark.py all --device cuda         # GPU throughput

The benchmarks, also runnable alone (see ``--help`` of each):

``pipeline`` (P1): seconds per clip of a config's test pipeline with
``FaceCrop`` (decode video + audio, face detection and crop, audio
features) on the real GRID talking-face clips transcoded to RAVDESS' mp4 +
wav, over the time FFmpeg alone (PyAV's bundled libav*, or the ``ffmpeg``
CLI) takes to decode the same frames (up to the last sampled one, the
sampled ones converted to RGB) and the whole audio file. Once with the
detector running on every clip (a clip seen for the first time), once with
the detections cached (``FaceCrop(cache_dir=...)``, epochs 2+).

``face-agreement`` (P1): how closely a config's ``FaceCrop`` setting (e.g.
detection on key frames only) follows MTCNN run on every frame: the share
of frames whose face box (``face_tracks``) has IoU >= 0.9 with the
reference's, on every frame of the GRID clips and of synthetic clips (see
``docs/en/user_guides/faces.md`` and :mod:`mmemo.models.face.agreement`).

``train-step`` (P2): one optimiser step (forward + backward + update, the
runner's ``train_step``) of a config's model with a batch of 8 real
samples: its own pipeline on GRID clips for media configs, its feature
cache for cached-feature configs. ``--compare-ref`` (``all`` passes it)
times the same model with every fused path off (``fused=False``, the
plain autograd ops), the plain memory layout and the optimiser's loop over
the parameters (no ``fused=True`` optimiser) interleaved with it;
``all`` measures the synthetic configs with the real datasets' settings
(channels-last weights where they have them, the fused optimiser);
``--optim-fused`` and
``--compile`` try PyTorch's fused optimiser and ``torch.compile``;
``--profile N`` prints torch.profiler's top operators.

``latency`` (P3): end-to-end inference on one 3-s clip through
:func:`mmemo.apis.inference_av` (decode, test pipeline, forward).

``va-cache`` (P4): training a JCA/JMT fusion head on frozen encoders, one
epoch from a feature cache versus one epoch that decodes every window and
runs the encoders::

    python tools/benchmark.py va-cache configs/concat_synth_va.py \\
        configs/jca_synth_va.py --checkpoint ENCODERS.pth

The first config has the encoders and the decoding pipeline, the second the
cached dataset and the head. Both paths train the *same* head (the second
config's) with the same batch size; the decode path is timed over
``--max-windows`` windows (the whole epoch when 0) and extrapolated to the
epoch, the cache path over a whole epoch. The cache is filled first when it
is incomplete (a one-off cost, printed separately).

``clip-cache`` (P6): end-to-end training from the decoded-clip cache
(``configs/avtca_synth_clipcache.py``) versus decoding
(``configs/avtca_synth.py``) on a generated synthetic set: one epoch of
data loading alone and one training epoch (the same model and batch), each
path timed in the same run, interleaved; prints the cache's disk size per
1,000 clips (see docs/en/user_guides/clip_cache.md).
"""
import argparse
import copy
import datetime
import json
import os
import os.path as osp
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

from mmengine.config import DictAction  # imports no torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
GRID_DIR = osp.join(REPO, 'tests', 'data', 'grid')
GRID_CLIPS = ('bbaf2n', 'lwbsza', 'pwij3p', 'sbwe5n', 'id2_vcd_swwp2s')
DEFAULT_WORK_DIR = osp.join('work_dirs', 'benchmark')

# (row name, config, --cfg-options): the synthetic configs with the real
# datasets' settings, which their documented results did not use: the
# channels-last layout of the AVT-CA / CFN-SR RAVDESS, CREMA-D and MOSEI
# configs, and every real dataset's fused optimiser
TRAIN_STEP_CONFIGS = (
    ('AVT-CA', 'configs/avtca_synth.py',
     ['model.channels_last=True', 'optim_wrapper.optimizer.fused=True']),
    ('CFN-SR', 'configs/cfnsr_synth.py',
     ['model.channels_last=True', 'optim_wrapper.optimizer.fused=True']),
    ('JCA', 'configs/jca_synth_va.py', ['optim_wrapper.optimizer.fused=True']),
    ('JMT', 'configs/jmt_synth_va.py', ['optim_wrapper.optimizer.fused=True']),
    ('MAVEN', 'configs/maven_synth_va.py',
     ['optim_wrapper.optimizer.fused=True']),
)
ROW_FIELDS = ('benchmark', 'measured', 'unit', 'reference', 'ratio', 'goal',
              'met', 'peak_rss_mb', 'details')


# ------------------------------------------------------------- arguments
def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--device',
        default='cpu',
        help='cpu or cuda (models; decoding and face detection stay on the '
        "config's device)")
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch threads (default: the benchmark\'s own, see --help of '
        'all)')
    parser.add_argument(
        '--json-out', help='also write the result rows to this JSON file')
    parser.add_argument(
        '--work-dir',
        default=DEFAULT_WORK_DIR,
        help='transcoded clips, generated data, caches')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='mmemo benchmarks')
    sub = parser.add_subparsers(dest='bench', required=True)

    va = sub.add_parser('va-cache', help='(P4) cached vs decoded head epoch')
    va.add_argument('decode_config', help='config with the encoders')
    va.add_argument('cached_config', help='config training from the cache')
    va.add_argument('--checkpoint', default='none', help='encoder weights')
    va.add_argument(
        '--max-windows',
        type=int,
        default=64,
        help='decode-path windows timed (0 = the whole epoch)')
    va.add_argument(
        '--num-workers',
        type=int,
        default=2,
        help='dataloader workers of the decode path')
    va.add_argument(
        '--cache-epochs',
        type=int,
        default=5,
        help='cached epochs timed (their median is used)')
    va.add_argument(
        '--data-root',
        help='override the data_root of both configs (e.g. a generated '
        'synthetic VA set)')
    va.add_argument(
        '--size', help="override the synthetic set's size ('tiny')")
    va.add_argument(
        '--feature-dir', help='override the cache folder of both configs')
    _common(va)

    pipe = sub.add_parser('pipeline', help='(P1) pipeline vs FFmpeg decode')
    pipe.add_argument(
        'config',
        nargs='?',
        default='configs/avtca_ravdess.py',
        help='config whose test pipeline has FaceCrop')
    pipe.add_argument('--clips', type=int, default=5, help='GRID clips')
    pipe.add_argument(
        '--repeats', type=int, default=3, help='timed passes over the clips')
    pipe.add_argument(
        '--reference',
        choices=('auto', 'pyav', 'ffmpeg-cli'),
        default='pyav',
        help='how FFmpeg alone decodes: in process with PyAV (its bundled '
        'FFmpeg libraries), or the ffmpeg binary (process start-up '
        'included); auto = the binary when on PATH')
    _common(pipe)

    agree = sub.add_parser(
        'face-agreement', help='(P1) FaceCrop boxes vs MTCNN every frame')
    agree.add_argument(
        'config',
        nargs='?',
        default='configs/avtca_ravdess.py',
        help='config whose test pipeline has FaceCrop')
    agree.add_argument(
        '--synthetic-clips',
        type=int,
        default=60,
        help='clips of the tiny synthetic set (0: none)')
    agree.add_argument(
        '--key-frames',
        type=int,
        help="override FaceCrop's key_frames (0: detect every frame)")
    agree.add_argument(
        '--refine-iou',
        type=float,
        help="override FaceCrop's refine_iou (negative: None)")
    agree.add_argument(
        '--min-face-size',
        type=int,
        help="override the min_face_size of FaceCrop's (MTCNN) detector")
    _common(agree)

    step = sub.add_parser('train-step', help='(P2) one training step')
    step.add_argument('config')
    step.add_argument('--name', help='row name (default: the config)')
    step.add_argument('--batch-size', type=int, default=8)
    step.add_argument('--steps', type=int, default=5, help='timed steps')
    step.add_argument(
        '--data-root', help='data_root of a cached-feature config')
    step.add_argument('--size', help="synthetic set size ('tiny')")
    step.add_argument('--feature-dir', help='feature cache folder')
    step.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings (key=value), as tools/train.py')
    step.add_argument(
        '--compare-ref',
        action='store_true',
        help='also time a copy of the model with every fused path off '
        '(`fused=False`, the plain autograd ops), its weights in the '
        'plain memory layout (`channels_last=False`) and its optimiser not '
        'fused, interleaved step by step with the measured one; the ratio '
        'is measured / reference')
    step.add_argument(
        '--compile',
        action='store_true',
        help="torch.compile the measured model's train_step as MMEngine's "
        '`compile=True` config option does (compilation happens in the '
        'untimed warm-up and is reported as compile_s)')
    step.add_argument(
        '--optim-fused',
        action='store_true',
        help="build the measured model's optimizer with fused=True "
        "(PyTorch's fused Adam/AdamW/SGD kernel; the config option "
        'optim_wrapper.optimizer.fused=True, which the configs of the '
        "real datasets set); --compare-ref's reference never fuses it")
    step.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='N',
        help='after timing, profile --steps more steps of each model with '
        'torch.profiler and print its N most expensive operators (self CPU '
        'time)')
    _common(step)

    lat = sub.add_parser('latency', help='(P3) end-to-end inference')
    lat.add_argument('config', nargs='?', default='configs/avtca_ravdess.py')
    lat.add_argument('--checkpoint', default=None)
    lat.add_argument(
        '--runs', type=int, default=5, help='timed clips (each new)')
    _common(lat)

    clips = sub.add_parser(
        'clip-cache', help='(P6) epoch from the clip cache vs decoding')
    clips.add_argument(
        'decode_config', nargs='?', default='configs/avtca_synth.py')
    clips.add_argument(
        'cached_config', nargs='?', default='configs/avtca_synth_clipcache.py')
    clips.add_argument(
        '--media',
        choices=('synthetic', 'grid'),
        default='synthetic',
        help='a generated synthetic set, or the GRID talking-face clips '
        "transcoded to RAVDESS' mp4 + wav (for the FaceCrop configs)")
    clips.add_argument(
        '--clips', type=int, default=16, help='GRID clips (--media grid)')
    clips.add_argument(
        '--num-actors',
        type=int,
        default=5,
        help='actors of the generated set (the last one is held out)')
    clips.add_argument(
        '--reps', type=int, default=2, help='clips per actor and class')
    clips.add_argument(
        '--num-workers', type=int, default=2, help='dataloader workers')
    clips.add_argument(
        '--repeats', type=int, default=2, help='timed epochs per path')
    clips.add_argument(
        '--no-train',
        action='store_true',
        help='time data loading only (no training epochs)')
    clips.add_argument(
        '--until',
        help="override the cached config's last cached step (e.g. "
        'SampleAlignedAudio: keep the waveform, audio features per epoch)')
    _common(clips)

    every = sub.add_parser(
        'all',
        help='everything, one table',
        description='Run P1-P4 and P6 (P5, the share of time the GPU is '
        'busy, is tools/gpu_check.sh\'s), each in a child process, and '
        'print one table. Torch threads: 1 for P1 (FFmpeg decodes on '
        'one), --threads (default 1) for the others.')
    every.add_argument(
        '--quick', action='store_true', help='tiny settings (a smoke run)')
    every.add_argument('--out', help='write OUT.json and OUT.md')
    every.add_argument(
        '--only',
        nargs='+',
        choices=('pipeline', 'train-step', 'latency', 'va-cache',
                 'clip-cache'),
        help='run only these benchmarks')
    _common(every)
    from mmemo.utils.cli import add_debug_argument
    for subparser in sub.choices.values():
        add_debug_argument(subparser)
    return parser.parse_args(argv)


# --------------------------------------------------------------- helpers
def setup(args) -> None:
    """Threads, device check, registries (imports torch lazily so that the
    ``all`` parent stays small)."""
    import torch
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit(
            f'--device {args.device}: CUDA is not available here '
            '(torch.cuda.is_available() is False; torch '
            f'{torch.__version__}, CUDA build {torch.version.cuda}). '
            'Run with --device cpu.')
    if args.threads:
        torch.set_num_threads(args.threads)
    import mmemo  # noqa: F401  (compat shims, registries)
    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope

    # the latest instance is the `current` one: quiet init_weights' logs
    MMLogger.get_instance('mmemo_benchmark', log_level='WARNING')
    init_default_scope('mmemo')


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children
    (dataloader workers), MiB (Linux reports KiB)."""
    scale = 1 / 1024 if sys.platform != 'darwin' else 1 / 2**20
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) * scale, 1)


def row(benchmark: str,
        measured: float,
        unit: str,
        reference: Optional[float] = None,
        ratio: Optional[float] = None,
        goal: Optional[str] = None,
        met: Optional[bool] = None,
        **details) -> Dict:
    return dict(
        benchmark=benchmark,
        measured=measured,
        unit=unit,
        reference=reference,
        ratio=ratio,
        goal=goal,
        met=met,
        peak_rss_mb=None,
        details=details)


def finish(args, rows: List[Dict]) -> List[Dict]:
    """Stamp the peak memory, print the rows, write ``--json-out``."""
    rss = peak_rss_mb()
    for r in rows:
        r['peak_rss_mb'] = rss
    print_table(rows)
    if getattr(args, 'json_out', None):
        with open(args.json_out, 'w') as f:
            from mmemo.utils import strict_json
            strict_json.dump(rows, f, indent=1)
    return rows


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        import torch
        torch.cuda.synchronize()


def grid_media(work_dir: str, num: int) -> List[tuple]:
    """``num`` GRID clips as RAVDESS' ``01-`` mp4 (H.264 + AAC 48 kHz) with
    a separate 48 kHz wav (``03-``), transcoded once into ``work_dir``."""
    sys.path.insert(0, osp.join(REPO, 'tests'))
    try:
        from helpers import transcode
    except ImportError as e:
        raise SystemExit(
            f'the GRID clips are transcoded with tests/helpers.py ({e}): '
            'run from a source checkout with the test requirements '
            '(pip install -r requirements/tests.txt)')
    finally:
        sys.path.pop(0)
    out = osp.join(work_dir, 'grid_av')
    media = []
    for i in range(num):
        name = GRID_CLIPS[i % len(GRID_CLIPS)]
        src = osp.join(GRID_DIR, f'{name}.mpg')
        # cycling: later copies are other files (no shared face cache)
        video = osp.join(out, f'{i:02d}-{name}.mp4')
        audio = osp.join(out, f'{i:02d}-{name}.wav')
        if not osp.isfile(video):
            transcode(src, video + '.tmp.mp4')
            os.replace(video + '.tmp.mp4', video)
        if not osp.isfile(audio):
            transcode(
                src,
                audio + '.tmp.wav',
                video_codec=None,
                audio_codec='pcm_s16le')
            os.replace(audio + '.tmp.wav', audio)
        media.append((video, audio))
    return media


def sample_dict(video: str, audio: Optional[str], label: int = 0) -> Dict:
    """A sample as the AV datasets hand it to their pipeline."""
    info = dict(filename=video, label=label, start_index=0, modality='RGB')
    if audio:
        info['audio_path'] = audio
    return info


# ------------------------------------------------------------------- P1
def ffmpeg_reference(video: str, audio: str, frame_inds, mode: str) -> None:
    """Decode what the pipeline decodes with FFmpeg alone: the video up to
    the last sampled frame (the sampled ones converted to RGB) and the
    whole audio file (to float samples). A WAV file is opened without
    FFmpeg's stream probing, as the pipeline opens it (probing a 48 kHz
    stereo PCM file takes longer than decoding it)."""
    from mmemo.datasets.media import WAV_OPEN_OPTIONS, is_wav_file
    wav_options = WAV_OPEN_OPTIONS if is_wav_file(audio) else {}
    import numpy as np
    wanted = set(int(i) for i in np.asarray(frame_inds).reshape(-1))
    last = max(wanted)
    if mode == 'ffmpeg-cli':
        select = '+'.join(f'eq(n\\,{i})' for i in sorted(wanted))
        subprocess.run([
            'ffmpeg', '-v', 'error', '-threads', '1', '-i', video, '-frames:v',
            str(last + 1), '-vf', f'select={select}', '-fps_mode',
            'passthrough', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'
        ],
                       check=True,
                       stdout=subprocess.DEVNULL)
        probe = [x for k, v in wav_options.items() for x in (f'-{k}', v)]
        subprocess.run(
            ['ffmpeg', '-v', 'error'] + probe +
            ['-i', audio, '-f', 'f32le', '-'],
            check=True,
            stdout=subprocess.DEVNULL)
        return
    import av
    with av.open(video) as container:
        stream = container.streams.video[0]
        for index, frame in enumerate(container.decode(stream)):
            if index in wanted:
                frame.to_ndarray(format='rgb24')
            if index >= last:
                break
    with av.open(audio, options=wav_options) as container:
        resampler = av.AudioResampler(format='fltp')
        for frame in container.decode(audio=0):
            for f in resampler.resample(frame):
                f.to_ndarray()


def _face_pipeline(config: str, cache_dir: Optional[str]):
    from mmengine.config import Config

    from mmemo.registry import TRANSFORMS
    cfg = Config.fromfile(
        osp.join(REPO, config)
        if not osp.isabs(config) and not osp.exists(config) else config)
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    names = [t['type'].split('.')[-1] for t in pipeline]
    if 'FaceCrop' not in names:
        raise SystemExit(f'{config}: its test pipeline has no FaceCrop')
    for t in pipeline:
        if t['type'].split('.')[-1] == 'FaceCrop':
            t['cache_dir'] = cache_dir
    return names, [TRANSFORMS.build(t) for t in pipeline]


def _run_timed(names, transforms, results, stage_times: Dict):
    """Apply the transforms one by one, adding each one's seconds; returns
    the sampled frame indices."""
    frame_inds = None
    for name, t in zip(names, transforms):
        start = time.perf_counter()
        results = t(results)
        stage_times[name] = stage_times.get(name, 0.0) + \
            time.perf_counter() - start
        if frame_inds is None and 'frame_inds' in results:
            frame_inds = results['frame_inds'].copy()
    return frame_inds


def pipeline_bench(args) -> List[Dict]:
    setup(args)
    mode = args.reference
    if mode == 'auto':
        mode = 'ffmpeg-cli' if shutil.which('ffmpeg') else 'pyav'
    if mode == 'ffmpeg-cli' and not shutil.which('ffmpeg'):
        raise SystemExit('--reference ffmpeg-cli: no ffmpeg on PATH')
    import torch
    media = grid_media(args.work_dir, args.clips)
    rows = []
    cache_dir = tempfile.mkdtemp(prefix='face_cache_', dir=args.work_dir)
    try:
        for label, cache in (('detector on every clip', None),
                             ('detections cached', cache_dir)):
            names, transforms = _face_pipeline(args.config, cache)
            # warm-up (and, for the cached case, filling the cache)
            inds = {}
            for video, audio in media:
                inds[video] = _run_timed(names, transforms,
                                         sample_dict(video, audio), {})
                ffmpeg_reference(video, audio, inds[video], mode)
            pipe_s = {v: [] for v, _ in media}
            ref_s = {v: [] for v, _ in media}
            stages: Dict[str, float] = {}
            for _ in range(args.repeats):
                for video, audio in media:
                    # interleaved, so that load changes hit both alike
                    start = time.perf_counter()
                    ffmpeg_reference(video, audio, inds[video], mode)
                    ref_s[video].append(time.perf_counter() - start)
                    start = time.perf_counter()
                    _run_timed(names, transforms, sample_dict(video, audio),
                               stages)
                    pipe_s[video].append(time.perf_counter() - start)
            # per clip the median over the repeats, then the mean clip
            pipe = statistics.mean(
                statistics.median(v) for v in pipe_s.values())
            ref = statistics.mean(statistics.median(v) for v in ref_s.values())
            ratio = pipe / ref
            passes = args.repeats * len(media)
            rows.append(
                row(f'P1 pipeline / FFmpeg decode ({label})',
                    round(pipe, 4),
                    's/clip',
                    reference=round(ref, 4),
                    ratio=round(ratio, 2),
                    goal='<= 1.25',
                    met=ratio <= 1.25,
                    config=args.config,
                    reference_decoder=f'{mode} (FFmpeg '
                    f'{_ffmpeg_version(mode)})',
                    clips=len(media),
                    repeats=args.repeats,
                    torch_threads=torch.get_num_threads(),
                    stage_ms={
                        k: round(v / passes * 1000, 1)
                        for k, v in stages.items()
                    }))
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    return finish(args, rows)


def face_agreement_bench(args) -> List[Dict]:
    setup(args)
    import glob

    from mmengine.config import Config

    from mmemo.datasets.synthetic import generate_categorical
    from mmemo.datasets.transforms import FaceCrop
    from mmemo.models.face.agreement import (AGREEMENT_GOAL, IOU_THRESHOLD,
                                             REFERENCE_DETECTOR,
                                             face_track_agreement)
    cfg = Config.fromfile(
        osp.join(REPO, args.config) if not osp.isabs(args.config)
        and not osp.exists(args.config) else args.config)
    pipeline = cfg.test_dataloader.dataset.pipeline
    by_name = {t['type'].split('.')[-1]: t for t in pipeline}
    if 'FaceCrop' not in by_name:
        raise SystemExit(f'{args.config}: its test pipeline has no FaceCrop')
    setting = dict(copy.deepcopy(by_name['FaceCrop']), cache_dir=None)
    setting.pop('type')
    if args.key_frames is not None:
        setting['key_frames'] = args.key_frames or None
    if args.refine_iou is not None:
        setting['refine_iou'] = None if args.refine_iou < 0 else \
            args.refine_iou
    if args.min_face_size is not None:
        detector = dict(setting.get('detector', REFERENCE_DETECTOR))
        if detector.get('type') != 'MTCNNFaceDetector':
            raise SystemExit('--min-face-size: the FaceCrop detector of '
                             f'{args.config} is not MTCNN: {detector}')
        setting['detector'] = dict(detector, min_face_size=args.min_face_size)
    clip_len = by_name.get('UniformSample', {}).get('clip_len', 15)
    face_crop = FaceCrop(**setting)
    reference = FaceCrop(
        **dict(setting, detector=REFERENCE_DETECTOR, key_frames=None))
    sets = [('GRID', [osp.join(GRID_DIR, f'{c}.mpg') for c in GRID_CLIPS])]
    if args.synthetic_clips:
        root = osp.join(args.work_dir, 'synthetic_faces')
        generate_categorical(root, size='tiny', progress=False)
        videos = sorted(glob.glob(osp.join(root, 'videos', '*.mp4')))
        sets.append(('synthetic', videos[:args.synthetic_clips]))
    rows = []
    for name, videos in sets:
        start = time.perf_counter()
        res = face_track_agreement(face_crop, reference, videos, clip_len)
        print(f'{name}: {res["videos"]} videos, {res["frames"]} frames, '
              f'{res["scored"]} scored ({res["unscored"]} without a face '
              f'for the reference), {res["agree"]} with IoU >= '
              f'{IOU_THRESHOLD} ({res["fraction"]:.4f}), min IoU '
              f'{res["min_iou"]:.3f}, median {res["median_iou"]:.3f}; '
              f'detector on {res["searched_per_frame"]:.1%} of the frames '
              f'(clips of {clip_len} frames)')
        rows.append(
            row(f'P1 face boxes vs MTCNN every frame ({name})',
                round(res['fraction'], 4),
                f'frames IoU>={IOU_THRESHOLD}',
                goal=f'>= {AGREEMENT_GOAL}',
                met=res['fraction'] >= AGREEMENT_GOAL,
                config=args.config,
                face_crop=repr(face_crop),
                clip_len=clip_len,
                seconds=round(time.perf_counter() - start, 1),
                **{
                    k: v
                    for k, v in res.items() if k != 'fraction'
                }))
    return finish(args, rows)


def _ffmpeg_version(mode: str) -> str:
    if mode == 'ffmpeg-cli':
        out = subprocess.run(['ffmpeg', '-version'],
                             stdout=subprocess.PIPE,
                             text=True).stdout
        return out.split()[2] if out else '?'
    import av
    versions = getattr(av, 'library_versions', {})
    avcodec = versions.get('libavcodec')
    return (f'libavcodec {".".join(map(str, avcodec))}, PyAV '
            f'{av.__version__}' if avcodec else f'PyAV {av.__version__}')


# ------------------------------------------------------------------- P2
def _patch_va(cfg,
              data_root: Optional[str] = None,
              size: Optional[str] = None,
              feature_dir: Optional[str] = None) -> None:
    """Point every dataset of a VA config at another data root / set size
    / feature cache."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if key not in cfg:
            continue
        ds = cfg[key]['dataset']
        if data_root:
            ds['data_root'] = data_root
        if size:
            ds['size'] = size
        for t in ds.get('pipeline', []):
            if feature_dir and 'feature_dir' in t:
                # LoadSequenceFeatures reads <cache>/<stream>
                stream = t.get('stream')
                t['feature_dir'] = osp.join(
                    feature_dir, stream) if stream and t['type'].endswith(
                        'LoadSequenceFeatures') else feature_dir


def _config(path: str):
    from mmengine.config import Config
    if not osp.exists(path) and osp.exists(osp.join(REPO, path)):
        path = osp.join(REPO, path)
    return Config.fromfile(path)


def _train_batch(cfg, args) -> list:
    """``batch_size`` real training samples of the config."""
    from mmengine.dataset import Compose

    from mmemo.registry import DATASETS
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    names = [t['type'].split('.')[-1] for t in ds_cfg.get('pipeline', [])]
    if 'AVInit' in names:
        # a media pipeline: run it on GRID clips (video + separate wav)
        pipeline = Compose(ds_cfg.pipeline)
        media = grid_media(args.work_dir, 5)
        num_classes = cfg.model.get('fusion_head', {}).get('num_classes', 2)
        return [
            pipeline(
                sample_dict(*media[i % len(media)], label=i % num_classes))
            for i in range(args.batch_size)
        ]
    dataset = DATASETS.build(ds_cfg)
    return [dataset[i % len(dataset)] for i in range(args.batch_size)]


def _reference_is(fused: bool, channels_last: bool, fused_optim: bool) -> str:
    off = [
        text for on, text in ((fused, 'fused=False (plain ops)'),
                              (channels_last, 'channels_last=False'),
                              (fused_optim, 'the optimiser not fused')) if on
    ]
    if not off:
        return 'the same model (no fused path: a noise check)'
    return 'the same model with ' + ' and '.join(off)


def train_step_bench(args) -> List[Dict]:
    setup(args)
    import torch
    from mmengine.dataset import pseudo_collate
    from mmengine.optim import build_optim_wrapper

    from mmemo.registry import HOOKS, MODELS
    cfg = _config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    _patch_va(cfg, args.data_root, args.size, args.feature_dir)
    torch.manual_seed(0)
    samples = _train_batch(cfg, args)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(args.device).train()
    # what the runner's RetainFreedMemoryHook does before the run (when the
    # config enables it: `--cfg-options
    # default_hooks.retain_freed_memory.enable=True`)
    hook = cfg.get('default_hooks', {}).get('retain_freed_memory')
    retained = bool(hook) and HOOKS.build(hook).apply(model)
    batch = pseudo_collate(samples)
    models = dict(measured=model)
    fused = [
        m for m in model.modules()
        if isinstance(getattr(m, 'fused', None), bool)
    ]
    channels_last = bool(getattr(model, 'channels_last', False))
    if args.compare_ref:
        # the same weights, every fused path off and the plain layout: the
        # computation before issue 19
        reference = copy.deepcopy(model)
        for m in reference.modules():
            if isinstance(getattr(m, 'fused', None), bool):
                m.fused = False
        if channels_last:
            reference.channels_last = False
            for t in (*reference.parameters(), *reference.buffers()):
                t.data = t.data.contiguous()
        models['reference'] = reference
    optims = {}
    for k, m in models.items():
        optim_cfg = copy.deepcopy(cfg.optim_wrapper)
        if k == 'measured' and args.optim_fused:
            optim_cfg.optimizer['fused'] = True
        if k == 'reference':
            # and the optimiser's loop over the parameters
            optim_cfg.optimizer.pop('fused', None)
        optims[k] = build_optim_wrapper(m, optim_cfg)
    fused_optim = bool(optims['measured'].optimizer.defaults.get('fused'))
    compile_s = None
    if args.compile:
        # what Runner._maybe_compile does with `compile=True`
        model.train_step = torch.compile(model.train_step)
    for k, m in models.items():  # warm-up (allocations, autotuning, compile)
        start = time.perf_counter()
        m.train_step(batch, optims[k])
        if k == 'measured' and args.compile:
            compile_s = round(time.perf_counter() - start, 1)
    times = {k: [] for k in models}
    for i in range(args.steps):
        # interleaved (the same machine load), in ABBA order (no model
        # always goes first)
        for k, m in list(models.items())[::1 if i % 2 == 0 else -1]:
            _sync(args.device)
            start = time.perf_counter()
            m.train_step(batch, optims[k])
            _sync(args.device)
            times[k].append(time.perf_counter() - start)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile
        for k, m in models.items():
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(args.steps):
                    m.train_step(batch, optims[k])
            print(f'\n{k}: torch.profiler over {args.steps} steps')
            print(prof.key_averages().table(
                sort_by='self_cpu_time_total', row_limit=args.profile))
    step = statistics.median(times['measured'])
    ref = statistics.median(times['reference']) if args.compare_ref else None
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    details = dict(
        config=args.config,
        batch_size=args.batch_size,
        clips_per_s=round(args.batch_size / step, 1),
        steps=args.steps,
        trainable_params=params,
        fused_modules=sorted({type(m).__name__
                              for m in fused}),
        channels_last=channels_last,
        retain_freed_memory=retained,
        compiled=args.compile,
        optimizer=type(optims['measured'].optimizer).__name__ +
        (' (fused)' if fused_optim else ''),
        device=args.device,
        torch_threads=torch.get_num_threads())
    if compile_s is not None:
        details['compile_s'] = compile_s
    if ref is not None:
        details.update(
            reference_clips_per_s=round(args.batch_size / ref, 1),
            reference_is=_reference_is(
                bool(fused), channels_last, fused_optim))
    return finish(args, [
        row(f'P2 train step {name}',
            round(step * 1000, 1),
            'ms/step',
            reference=None if ref is None else round(ref * 1000, 1),
            ratio=None if ref is None else round(step / ref, 3),
            **details)
    ])


# ------------------------------------------------------------------- P3
def latency_bench(args) -> List[Dict]:
    setup(args)
    import torch

    from mmemo.apis import inference_av, init_model
    cfg = _config(args.config)
    # a clip seen for the first time: no face-detection cache
    for t in cfg.test_dataloader.dataset.pipeline:
        if t['type'].split('.')[-1] == 'FaceCrop':
            t['cache_dir'] = None
    media = grid_media(args.work_dir, max(2, args.runs + 1))
    model = init_model(cfg, args.checkpoint, device=args.device)
    inference_av(model, *media[0])  # warm-up
    times = []
    for video, audio in media[1:args.runs + 1]:
        _sync(args.device)
        start = time.perf_counter()
        result = inference_av(model, video, audio)
        _sync(args.device)
        times.append(time.perf_counter() - start)
    latency = statistics.median(times)
    clip_s = result['window'][1] - result['window'][0]
    return finish(args, [
        row('P3 inference latency, 3-s clip',
            round(latency, 3),
            's',
            reference=round(clip_s, 2),
            ratio=round(latency / clip_s, 3),
            goal='< 1 s',
            met=latency < 1.0,
            config=args.config,
            reference_is='the window length (ratio = real-time factor)',
            runs=len(times),
            min_s=round(min(times), 3),
            max_s=round(max(times), 3),
            device=args.device,
            torch_threads=torch.get_num_threads())
    ])


# ------------------------------------------------------------------- P4
def _loader(cfg, num_workers: Optional[int] = None):
    """The config's training dataloader (``num_workers`` None keeps the
    config's own)."""
    from mmengine.runner import Runner
    loader = copy.deepcopy(cfg.train_dataloader)
    if num_workers is not None:
        loader.num_workers = num_workers
    loader.persistent_workers = False
    return Runner.build_dataloader(loader, seed=0)


def _train_epoch(head_model, loader, encode, max_windows: int = 0) -> tuple:
    """Train the head over ``loader``; returns (seconds, windows)."""
    import torch
    optim = torch.optim.Adam(head_model.cls_head.parameters(), lr=1e-4)
    head_model.train()
    windows, start = 0, time.perf_counter()
    for batch in loader:
        data = head_model.data_preprocessor(batch, True)
        feats = encode(data['inputs'])
        losses = head_model.cls_head.loss(feats, data['data_samples'])
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
        windows += len(data['data_samples'])
        if max_windows and windows >= max_windows:
            break
    return time.perf_counter() - start, windows


def va_cache(args) -> List[Dict]:
    setup(args)
    import torch
    from mmengine.runner import load_checkpoint

    from mmemo.apis import extract_sub_clip_features
    from mmemo.registry import DATASETS, MODELS
    decode_cfg = _config(args.decode_config)
    cached_cfg = _config(args.cached_config)
    for cfg in (decode_cfg, cached_cfg):
        _patch_va(cfg, args.data_root, args.size, args.feature_dir)
    # the same random encoder weights every run: a second run reuses the
    # cache, which records the weights it was made with
    torch.manual_seed(0)
    encoders = MODELS.build(decode_cfg.model)
    encoders.init_weights()
    if args.checkpoint != 'none':
        load_checkpoint(encoders, args.checkpoint, map_location='cpu')
    encoders.to(args.device).eval()
    head_model = MODELS.build(cached_cfg.model).to(args.device)
    torch.manual_seed(0)

    # fill the cache (one-off) from the train split's dense windows
    feature_dir = next(t['feature_dir']
                       for t in cached_cfg.train_dataloader.dataset.pipeline
                       if t['type'] == 'LoadSubClipFeatures')
    dense = copy.deepcopy(decode_cfg.train_dataloader.dataset)
    dense.update(
        test_mode=True,
        pipeline=copy.deepcopy(decode_cfg.test_dataloader.dataset.pipeline))
    start = time.perf_counter()
    stats = extract_sub_clip_features(
        encoders,
        DATASETS.build(dense),
        feature_dir,
        num_workers=args.num_workers,
        progress=False)
    extract_s = time.perf_counter() - start

    def from_decode(inputs):
        with torch.no_grad():
            return encoders.extract_feat(inputs)[0]

    decode_loader = _loader(decode_cfg, args.num_workers)
    cache_loader = _loader(cached_cfg)  # its own workers (none: in process)
    epoch_windows = len(cache_loader.dataset)
    assert len(decode_loader.dataset) == epoch_windows, \
        'the two configs must sample the same training windows'
    decode_s, decode_n = _train_epoch(head_model, decode_loader, from_decode,
                                      args.max_windows)
    # the cached epoch is short: the median of a few is steadier
    cache_runs = [
        _train_epoch(head_model, cache_loader, lambda x: x)
        for _ in range(max(1, args.cache_epochs))
    ]
    cache_s = statistics.median(s for s, _ in cache_runs)
    cache_n = cache_runs[0][1]
    decode_epoch = decode_s / decode_n * epoch_windows
    cache_epoch = cache_s / cache_n * epoch_windows
    speed_up = decode_epoch / cache_epoch
    print(f'\nva-cache: {epoch_windows} training windows per epoch, '
          f'decoding with {args.num_workers} workers, cache with '
          f'{cache_loader.num_workers}, {torch.get_num_threads()} torch '
          'threads')
    print(f'  cache fill (one-off): {extract_s:.1f} s '
          f'({stats["windows"]} dense windows, {stats["videos"]} videos, '
          f'{stats["skipped"]} already cached)')
    print(f'  decode + frozen encoders: {decode_s:.2f} s for {decode_n} '
          f'windows -> {decode_epoch:.1f} s per epoch')
    print(f'  from cache:               {cache_s:.2f} s for {cache_n} '
          f'windows -> {cache_epoch:.2f} s per epoch (median of '
          f'{len(cache_runs)} epochs)')
    print(f'  speed-up (epoch from cache vs decoding): {speed_up:.1f}x')
    return finish(args, [
        row('P4 epoch from cache vs decoding',
            round(cache_epoch, 3),
            's/epoch',
            reference=round(decode_epoch, 3),
            ratio=round(speed_up, 1),
            goal='>= 20x',
            met=speed_up >= 20,
            decode_config=args.decode_config,
            cached_config=args.cached_config,
            epoch_windows=epoch_windows,
            decode_windows_timed=decode_n,
            cache_epochs_timed=len(cache_runs),
            decode_workers=args.num_workers,
            cache_fill_s=round(extract_s, 1),
            ratio_is='decode epoch / cache epoch (speed-up)',
            torch_threads=torch.get_num_threads())
    ])


# ------------------------------------------------------------------- P6
def _epoch(loader, model=None, optim=None) -> tuple:
    """One pass over ``loader``, training ``model`` on each batch when
    given; returns (seconds, clips)."""
    clips, start = 0, time.perf_counter()
    for batch in loader:
        if model is not None:
            model.train_step(batch, optim)
        clips += len(batch['data_samples'])
    return time.perf_counter() - start, clips


def clip_cache_bench(args) -> List[Dict]:
    setup(args)
    import importlib.util

    import torch
    from mmengine.optim import build_optim_wrapper

    from mmemo.datasets.synthetic import generate_categorical
    from mmemo.registry import MODELS
    configs = [_config(args.decode_config), _config(args.cached_config)]
    step = configs[1].train_dataloader.dataset.pipeline[0]
    step['until'] = args.until or step['until']
    cache_dir = osp.join(args.work_dir, 'clip_cache',
                         osp.splitext(osp.basename(args.cached_config))[0],
                         step['until'])
    if args.media == 'grid':
        # the GRID clips listed in an annotation file, detections cached
        # (FaceCrop's cache_dir, as the configs set it: epochs 2+)
        media = grid_media(args.work_dir, args.clips)
        ann_file = osp.join(args.work_dir, 'grid_clipcache.csv')
        num_classes = configs[0].model.fusion_head.num_classes
        with open(ann_file, 'w') as f:
            f.write('video,audio,label,subject\n')
            for i, (video, audio) in enumerate(media):
                f.write(f'{video},{audio},{i % num_classes},1\n')
        dataset = dict(type='AVEmotionDataset', ann_file=ann_file)
    else:
        root = osp.join(args.work_dir, 'synthetic_clipcache')
        generate_categorical(
            root,
            seed=0,
            nproc=2,
            progress=False,
            num_actors=args.num_actors,
            reps_per_class=args.reps)
        dataset = dict(
            type='SyntheticAVDataset',
            data_root=root,
            split='train',
            generate=False,
            folds=[[args.num_actors]],
            fold=1,
            val_subjects=[])
    face_cache = osp.join(args.work_dir, 'face_cache')
    for cfg in configs:
        pipeline = cfg.train_dataloader.dataset.pipeline
        if pipeline[0]['type'] == 'ClipCachePipeline':
            pipeline[0]['cache_dir'] = cache_dir
            pipeline = pipeline[0]['pipeline']
        for t in pipeline:
            if t['type'] == 'FaceCrop':
                t['cache_dir'] = face_cache
        cfg.train_dataloader.dataset = dict(
            dataset, pipeline=cfg.train_dataloader.dataset.pipeline)
    spec = importlib.util.spec_from_file_location(
        'cache_clips', osp.join(REPO, 'tools', 'data', 'cache_clips.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    start = time.perf_counter()
    for folder, (cached, infos) in tool.plan(configs[1], ['train']).items():
        summary = tool.fill_cache(
            folder,
            cached,
            list(infos.values()),
            workers=args.num_workers,
            progress=False)
    fill_s = time.perf_counter() - start
    from mmengine.runner import Runner
    strategies = [
        cfg.get('default_hooks', {}).get('tensor_sharing', {}).get('strategy')
        or torch.multiprocessing.get_sharing_strategy() for cfg in configs
    ]

    def build(workers: int) -> list:
        """The two paths' loaders, warmed up (workers started, the cache
        index read, detections cached)."""
        loaders = []
        for cfg, strategy in zip(configs, strategies):
            # each path's workers (forked by the warm-up epoch, persistent)
            # hand tensors over as its config's TensorSharingStrategyHook
            # sets it for training
            torch.multiprocessing.set_sharing_strategy(strategy)
            loader = copy.deepcopy(cfg.train_dataloader)
            loader.update(num_workers=workers, persistent_workers=workers > 0)
            loaders.append(Runner.build_dataloader(loader, seed=0))
            _epoch(loaders[-1])
        return loaders

    # data loading in process (each path's CPU cost per clip, which sets
    # how many workers a GPU needs) and with --num-workers persistent
    # workers; then training epochs with those workers. Each timed
    # interleaved: decode, cache, decode, cache, ...
    ways = [('in process', 0)] + ([
        (f'{args.num_workers} workers', args.num_workers)
    ] if args.num_workers > 0 else [])
    torch.manual_seed(0)
    model = MODELS.build(configs[0].model)
    model.init_weights()
    model.to(args.device).train()
    optim = build_optim_wrapper(model, configs[0].optim_wrapper)
    timed = []  # (name, workers, [decode runs], [cache runs])
    for way, workers in ways:
        loaders = build(workers)
        runs = [[], []]
        for _ in range(max(1, args.repeats)):
            for path, loader in enumerate(loaders):
                runs[path].append(_epoch(loader))
        timed.append((f'data loading, {way}', workers, *runs))
    if not args.no_train:
        runs = [[], []]
        for _ in range(max(1, args.repeats)):
            for path, loader in enumerate(loaders):
                _sync(args.device)
                runs[path].append(_epoch(loader, model, optim))
                _sync(args.device)
        timed.append((f'training, {ways[-1][0]}', ways[-1][1], *runs))
    clips = timed[0][2][0][1]
    assert all(n == clips for t in timed for runs in t[2:] for _, n in runs)
    mb = summary['mb_per_1000_clips']
    print(f'\nclip-cache: {clips} training clips per epoch, batch '
          f'{loaders[0].batch_size}, {torch.get_num_threads()} torch '
          f'threads, device {args.device}; cached up to {step["until"]}')
    print(f'  cache fill (one-off): {fill_s:.1f} s, {mb} MiB per 1,000 '
          'clips on disk')
    name = 'P6 clip-cache epoch' + (', face crops (GRID)'
                                    if args.media == 'grid' else '')
    rows = []
    for what, workers, decode_runs, cache_runs in timed:
        decode_s = statistics.median(s for s, _ in decode_runs)
        cache_s = statistics.median(s for s, _ in cache_runs)
        print(f'  {what}: decoding {decode_s:.3f} s/epoch, from cache '
              f'{cache_s:.3f} s/epoch -> {decode_s / cache_s:.1f}x')
        rows.append(
            row(f'{name}, {what}',
                round(cache_s, 3),
                's/epoch',
                reference=round(decode_s, 3),
                ratio=round(decode_s / cache_s, 1),
                goal='>= 10x',
                met=decode_s / cache_s >= 10,
                decode_config=args.decode_config,
                cached_config=args.cached_config,
                media=args.media,
                epoch_clips=clips,
                batch_size=loaders[0].batch_size,
                workers=workers,
                sharing_strategy=dict(
                    decode=strategies[0], cache=strategies[1]),
                epochs_timed=len(cache_runs),
                cached_until=step['until'],
                cache_fill_s=round(fill_s, 1),
                mb_per_1000_clips=mb,
                ratio_is='decoding epoch / clip-cache epoch (speed-up)',
                device=args.device,
                torch_threads=torch.get_num_threads()))
    return finish(args, rows)


# ------------------------------------------------------------------ table
def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return '-'
    if isinstance(value, bool):
        return 'yes' if value else 'NO'
    if isinstance(value, float):
        return f'{value:.{digits}g}'
    return str(value)


def table_lines(rows: List[Dict], markdown: bool = False) -> List[str]:
    header = ('benchmark', 'measured', 'reference', 'ratio', 'goal', 'met?',
              'peak RSS MiB')
    body = []
    for r in rows:
        extra = r['details'].get('clips_per_s')
        measured = f'{_fmt(r["measured"])} {r["unit"]}'
        if extra is not None:
            measured += f' ({extra} clips/s)'
        ref = r['reference']
        body.append(
            (r['benchmark'], measured,
             '-' if ref is None else f'{_fmt(ref)} {r["unit"]}'
             if not r['benchmark'].startswith('P3') else f'{_fmt(ref)} s',
             _fmt(r['ratio']), _fmt(r['goal']), _fmt(r['met']),
             _fmt(r['peak_rss_mb'])))
    if markdown:
        lines = [
            '| ' + ' | '.join(header) + ' |',
            '| --- | ---: | ---: | ---: | --- | --- | ---: |'
        ]
        lines += ['| ' + ' | '.join(b) + ' |' for b in body]
        return lines
    widths = [
        max(len(x[i]) for x in [header] + body) for i in range(len(header))
    ]
    fmt = '  '.join(f'{{:<{w}}}' for w in widths)
    return [fmt.format(*header),
            fmt.format(*('-' * w
                         for w in widths))] + [fmt.format(*b) for b in body]


def print_table(rows: List[Dict]) -> None:
    print()
    for line in table_lines(rows):
        print(line)
    for r in rows:
        stages = r['details'].get('stage_ms')
        if stages:
            print(f'  {r["benchmark"]}: ms per clip by stage: ' +
                  ', '.join(f'{k} {v}' for k, v in stages.items()))


# -------------------------------------------------------------------- all
def _child(argv: List[str], work_dir: str, env: Dict) -> List[Dict]:
    """Run one benchmark in a child process; its rows, with the child's
    own peak RSS (from wait4)."""
    fd, json_path = tempfile.mkstemp(suffix='.json', dir=work_dir)
    os.close(fd)
    cmd = [sys.executable, osp.abspath(__file__)
           ] + argv + ['--json-out', json_path, '--work-dir', work_dir]
    print(f'\n$ {" ".join(cmd)}', flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        if proc.returncode != 0:
            raise SystemExit(f'benchmark failed (exit {proc.returncode}): '
                             f'{" ".join(argv)}')
        with open(json_path) as f:
            rows = json.load(f)
    finally:
        os.remove(json_path)
    wall = time.perf_counter() - start
    for r in rows:
        # the child's own peak (its dataloader workers reported theirs)
        r['peak_rss_mb'] = max(r['peak_rss_mb'] or 0,
                               round(usage.ru_maxrss / 1024, 1))
        r['details']['wall_s'] = round(wall, 1)
    return rows


def _machine(threads: int) -> Dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return dict(
        date=datetime.datetime.now(
            datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        cpu=cpu,
        cpu_count=os.cpu_count(),
        load_average=list(os.getloadavg())
        if hasattr(os, 'getloadavg') else None,
        python=platform.python_version(),
        threads=threads)


def run_all(args) -> List[Dict]:
    if args.device.startswith('cuda'):
        # fail before anything runs, with the children's message
        setup(args)
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    quick = args.quick
    threads = args.threads or 1
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + (
        os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
    env.setdefault('OMP_NUM_THREADS', str(threads))
    dev = ['--device', args.device]
    only = set(
        args.only
        or ('pipeline', 'train-step', 'latency', 'va-cache', 'clip-cache'))
    va_root = osp.join(work_dir, 'synthetic_va')
    features = osp.join(va_root, 'features', 'concat_synth_va')
    va_data = ['--data-root', va_root, '--size', 'tiny']
    rows = []
    if 'pipeline' in only:
        rows += _child([
            'pipeline', '--clips', '2' if quick else '5', '--repeats',
            '1' if quick else '3', '--threads', '1'
        ] + dev, work_dir, env)
        rows += _child(['face-agreement', '--threads', '1'] +
                       (['--synthetic-clips', '12'] if quick else []) + dev,
                       work_dir, env)
    # P4 first: its cache feeds the cached-feature heads of P2
    if 'va-cache' in only or 'train-step' in only:
        va_rows = _child([
            'va-cache', 'configs/concat_synth_va.py',
            'configs/jca_synth_va.py', '--max-windows', '8' if quick else '32',
            '--num-workers', '0' if quick else '2', '--threads',
            str(threads), '--feature-dir', features
        ] + va_data + dev, work_dir, env)
        if 'va-cache' in only:
            rows += va_rows
    if 'train-step' in only:
        for name, config, options in TRAIN_STEP_CONFIGS:
            rows += _child([
                'train-step', config, '--name', name, '--compare-ref',
                '--steps', '1' if quick else '20', '--threads',
                str(threads), '--feature-dir', features
            ] + (['--cfg-options'] + options if options else []) + va_data +
                           dev, work_dir, env)
    if 'latency' in only:
        rows += _child([
            'latency', '--runs', '1' if quick else '4', '--threads',
            str(threads)
        ] + dev, work_dir, env)
    if 'clip-cache' in only:
        rows += _child(
            ['clip-cache', '--threads',
             str(threads)] +
            (['--num-actors', '3', '--reps', '1'] if quick else []) + dev,
            work_dir, env)
    order = ('P1', 'P2', 'P3', 'P4', 'P6')
    rows.sort(key=lambda r: order.index(r['benchmark'][:2]))
    report = dict(
        machine=_machine(threads), device=args.device, quick=quick, rows=rows)
    print('\n' + '=' * 30 + ' mmemo benchmark ' + '=' * 30)
    m = report['machine']
    print(f'{m["date"]}, {m["cpu"]} ({m["cpu_count"]} CPUs, load '
          f'{_fmt(m["load_average"] and m["load_average"][0], 3)}), '
          f'device {args.device}{", quick" if quick else ""}')
    print_table(rows)
    if args.out:
        out = osp.splitext(args.out)[0] if args.out.endswith(
            ('.json', '.md')) else args.out
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out + '.json', 'w') as f:
            from mmemo.utils import strict_json
            strict_json.dump(report, f, indent=1)
        with open(out + '.md', 'w') as f:
            f.write(f'mmemo benchmark, {m["date"]}, {m["cpu"]} '
                    f'({m["cpu_count"]} CPUs), device {args.device}'
                    f'{", quick settings" if quick else ""}\n\n')
            f.write('\n'.join(table_lines(rows, markdown=True)) + '\n')
        print(f'\nwrote {out}.json and {out}.md')
    return rows


def main(argv=None):
    args = parse_args(argv)
    bench = dict(
        va_cache=va_cache,
        clip_cache=clip_cache_bench,
        pipeline=pipeline_bench,
        face_agreement=face_agreement_bench,
        train_step=train_step_bench,
        latency=latency_bench,
        all=run_all)[args.bench.replace('-', '_')]
    bench(args)


if __name__ == '__main__':
    from mmemo.utils.cli import run_cli
    run_cli(main)
