# AVT-CA (Dhanith et al., arXiv 2407.18552): EfficientFace per frame, the
# fusion head of mmemo.models.heads.AVTCAHead; 2,002,398 parameters with 8
# classes (the official code's 2,004,462 minus its two unused classifiers).
model = dict(
    type='AVRecognizer',
    visual_encoder=dict(type='EfficientFace'),
    fusion_head=dict(
        type='AVTCAHead',
        num_classes=8,
        audio_in_channels=10,  # MFCCs
        video_in_channels=1024,  # EfficientFace features
        # the official code's function; final_attention='cross' is the
        # paper's reading (audio over video, video over audio)
        final_attention='self',
        average_clips='prob'),
    data_preprocessor=dict(
        type='mmaction.MultiModalDataPreprocessor',
        preprocessors=dict(
            # The code divides by 255 only and feeds OpenCV's BGR order;
            # our frames are RGB, so to_rgb=True (a channel flip) gives BGR.
            video=dict(
                type='mmaction.ActionDataPreprocessor',
                mean=[0., 0., 0.],
                std=[255., 255., 255.],
                to_rgb=True,
                format_shape='NCTHW'),
            audio=dict(type='mmaction.ActionDataPreprocessor'))),
    # the code's 'softhard' modality dropout (batch x4)
    train_cfg=dict(modality_dropout='softhard'),
    # also score each modality alone (the other zeroed)
    test_cfg=dict(modality_scores=True),
    # convolution weights channels-last: the same function up to float
    # rounding; CPU steps 0.78-0.83x for the synthetic configs' encoders,
    # no clear gain measured for EfficientFace (docs/en/user_guides/
    # benchmark.md)
    channels_last=True)
