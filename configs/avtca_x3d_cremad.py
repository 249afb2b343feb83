# AVT-CA's fusion on an MMAction2 X3D visual backbone (X3D-S, Kinetics-400
# weights from the MMAction2 model zoo, loaded through init_cfg) on CREMA-D.
# The 432-d X3D tokens (one per frame, spatially pooled) replace
# EfficientFace's 1024-d frame features.
_base_ = ['./avtca_cremad.py']

x3d_weights = ('https://download.openmmlab.com/mmaction/v1.0/recognition/'
               'x3d/facebook/x3d_s_13x6x1_facebook-kinetics400-rgb_20201027'
               '-623825a0.pth')
model = dict(
    visual_encoder=dict(
        _delete_=True,
        type='TokenEncoder',
        backbone=dict(
            type='mmaction.X3D', gamma_w=1, gamma_b=2.25, gamma_d=2.2),
        feat_channels=432,
        init_cfg=dict(
            type='Pretrained', checkpoint=x3d_weights, prefix='backbone.')),
    fusion_head=dict(video_in_channels=432),
    data_preprocessor=dict(
        preprocessors=dict(
            # X3D's Kinetics statistics (RGB)
            video=dict(
                mean=[114.75, 114.75, 114.75],
                std=[57.38, 57.38, 57.38],
                to_rgb=False))))
