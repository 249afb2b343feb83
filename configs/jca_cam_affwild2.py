# The model the official JCA T-BIOM code actually trains (`orig_cam.CAM`,
# 8.59M parameters): audio-guided spatial attention over R(2+1)D-18's 7x7
# layer-4 map, dense co-attention, a 2-layer BiLSTM (models.md §2). Offered
# next to the paper's JCA block (configs/jca_affwild2.py).
_base_ = ['./jca_affwild2.py']
model = dict(
    visual_encoder=dict(pool=None),  # keep the [512, 7, 7] map
    fusion_head=dict(_delete_=True, type='JCACAMHead', seq_len=16))
