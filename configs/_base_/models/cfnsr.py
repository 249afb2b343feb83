# CFN-SR (Fu et al., arXiv 2111.02172; github.com/skeletonNN/CFN-SR, built on
# MSAF): Hara's 3D ResNeXt-50 on 30 face frames, MSAF's MFCCNet on 13 MFCCs,
# the fusion of mmemo.models.heads.CFNSRHead. 26,301,417 parameters at 8
# classes, the official total (ResNeXt-50 without its fc 25,865,664,
# MFCCNet 20,704, audio transformer 250,048, attention 135,297, classifier
# 29,704).
model = dict(
    type='AVRecognizer',
    visual_encoder=dict(
        type='ResNeXt3D',
        depth=50,
        cardinality=32,
        # CFN-SR's video path skips the stem's ReLU (the code builds it from
        # the ResNeXt's children without `relu`)
        stem_relu=False,
        # MSAF starts every fold from its unimodal fine-tuned ResNeXt, e.g.
        # init_cfg=dict(type='Pretrained',
        #               checkpoint='fold_1_resnext50_best.pth')
        init_cfg=None),
    audio_encoder=dict(
        type='MFCCNet',
        in_channels=13,
        channels=(32, 32, 64),
        kernel_sizes=(7, 7, 5),
        padding=2,
        pool=8,
        dropout=0.2),
    fusion_head=dict(
        type='CFNSRHead',
        num_classes=8,
        video_channels=2048,
        audio_channels=64,
        audio_length=26,  # 212 MFCC frames -> 26 steps
        num_heads=8,
        num_layers=5,
        ffn_dim=256,
        attn_drop=0.1,
        dropout=0.1,
        embed_drop=0.3,
        attn_hidden=64,
        audio_drop=0.4,
        residual=True,
        # the code's softmax over the 7x7 positions of each temporal slice
        alpha_softmax='per_slice',
        # the code sums the alpha maps over the batch (a sample's output then
        # depends on its batch); True reproduces it
        alpha_batch_sum=False,
        audio_transformer=True,
        cross_modal=True,
        average_clips='prob'),
    data_preprocessor=dict(
        type='mmaction.MultiModalDataPreprocessor',
        preprocessors=dict(
            # ImageNet mean/std on RGB frames (torchvision's Normalize)
            video=dict(
                type='mmaction.ActionDataPreprocessor',
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                format_shape='NCTHW'),
            # raw MFCCs, as the code
            audio=dict(type='mmaction.ActionDataPreprocessor'))),
    # convolution weights channels-last: the same function up to float
    # rounding; oneDNN's channels-last kernels are faster for most
    # convolutions (docs/en/user_guides/benchmark.md)
    channels_last=True)
