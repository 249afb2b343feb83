# Copyright (c) mmemo contributors. All rights reserved.
import os.path as osp
from collections import defaultdict
from typing import Dict, Optional, Sequence

from mmengine.dist import all_gather_object, get_world_size
from mmengine.hooks import Hook

from mmemo.registry import HOOKS

#: media_report counters -> (what they are, unit)
_COUNTERS = (
    ('audio_padded', 'audio padded with silence (shorter than or starting '
     'after the video)', 's'),
    ('audio_trimmed', 'audio trimmed (beyond the video)', 's'),
    ('audio_corrupt_packets', 'corrupt audio packets skipped', 'packets'),
    ('audio_concealed_packets', 'damaged audio packets concealed',
     'packets'),
    ('video_corrupt_packets', 'corrupt video packets skipped', 'packets'),
    ('video_concealed_packets', 'damaged video packets concealed',
     'packets'),
    ('video_filled_frames', 'sampled frames filled from the nearest '
     'decoded frame', 'frames'),
)


@HOOKS.register_module()
class MediaReportHook(Hook):
    """Report, once per epoch, what loading had to repair in the samples.

    The loading transforms record per sample what they found in
    ``media_report`` (``LoadAudio``: audio padded or trimmed by the length
    policy, corrupt or concealed packets; ``AVDecode``: the same for video
    and frames filled from a neighbour; ``FaceCrop``: frames with a face),
    and a training dataset with ``on_bad_sample='skip'`` notes the bad
    samples it replaced. ``PackAVInputs`` puts the report in each data
    sample's metainfo; this hook adds them up over the epoch (all ranks)
    and logs one line per kind of repair at the end of every training,
    validation and test epoch, naming the first files. Nothing is logged
    for an epoch without repairs.

    Args:
        max_files (int): Files named per line. Defaults to 3.
    """

    priority = 'LOW'

    def __init__(self, max_files: int = 3) -> None:
        self.max_files = max_files
        self._stats: Dict[str, dict] = {}

    # ------------------------------------------------------------ collect
    def _reset(self, mode: str) -> None:
        self._stats[mode] = dict(
            samples=0,
            values=defaultdict(list),  # counter -> [(value, file)]
            no_face=[],
            replaced=[])

    def _collect(self, mode: str, data_batch: Optional[dict]) -> None:
        if mode not in self._stats:
            self._reset(mode)
        samples = (data_batch or {}).get('data_samples') or []
        stats = self._stats[mode]
        for sample in samples:
            meta = getattr(sample, 'metainfo', None) or {}
            report = meta.get('media_report')
            if report is None:
                continue
            stats['samples'] += 1
            name = meta.get('filename') or meta.get('audio_path') or '?'
            for key, _, _ in _COUNTERS:
                value = report.get(key) or 0
                if value:
                    stats['values'][key].append((value, name))
            if report.get('face_frames') and not report.get('faces_found'):
                stats['no_face'].append(name)
            stats['replaced'] += list(report.get('replaced_bad_samples', ()))

    def before_train_epoch(self, runner) -> None:
        self._reset('train')

    def before_val_epoch(self, runner) -> None:
        self._reset('val')

    def before_test_epoch(self, runner) -> None:
        self._reset('test')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        self._collect('train', data_batch)

    def after_val_iter(self, runner, batch_idx: int, data_batch=None,
                       outputs=None) -> None:
        self._collect('val', data_batch)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs=None) -> None:
        self._collect('test', data_batch)

    # ---------------------------------------------------------------- log
    def _merged(self, mode: str) -> dict:
        stats = self._stats.get(mode)
        if stats is None:
            self._reset(mode)
            stats = self._stats[mode]
        if get_world_size() == 1:
            return stats
        merged = dict(
            samples=0, values=defaultdict(list), no_face=[], replaced=[])
        for part in all_gather_object(stats):
            merged['samples'] += part['samples']
            for key, items in part['values'].items():
                merged['values'][key] += items
            merged['no_face'] += part['no_face']
            merged['replaced'] += part['replaced']
        return merged

    def _files(self, names: Sequence[str]) -> str:
        unique = list(dict.fromkeys(osp.basename(n) for n in names))
        more = len(unique) - self.max_files
        return ', '.join(unique[:self.max_files]) + (
            f' (+{more} more)' if more > 0 else '')

    def report_lines(self, stats: dict) -> list:
        """The lines logged for one epoch's statistics."""
        lines = []
        for key, what, unit in _COUNTERS:
            items = stats['values'].get(key)
            if not items:
                continue
            values = [v for v, _ in items]
            if unit == 's':
                amount = f'{min(values):.2f}-{max(values):.2f} s'
            else:
                amount = f'{sum(values)} {unit}'
            files = self._files([n for _, n in items])
            lines.append(f'{what}: {len(items)} of {stats["samples"]} '
                         f'samples, {amount} ({files})')
        if stats['no_face']:
            files = self._files(stats['no_face'])
            lines.append(
                f'no face found (centre crop): {len(stats["no_face"])} of '
                f'{stats["samples"]} samples ({files})')
        if stats['replaced']:
            lines.append(
                f'bad samples replaced (on_bad_sample="skip"): '
                f'{len(stats["replaced"])}: '
                + '; '.join(stats['replaced'][:self.max_files]))
        return lines

    def _log(self, runner, mode: str, title: str) -> None:
        stats = self._merged(mode)
        for line in self.report_lines(stats):
            runner.logger.info(f'{title} media: {line}')

    def after_train_epoch(self, runner) -> None:
        self._log(runner, 'train', f'Epoch(train) [{runner.epoch + 1}]')

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._log(runner, 'val', 'Epoch(val)')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._log(runner, 'test', 'Epoch(test)')
