default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=20, type='CheckpointHook'),
    logger=dict(interval=1, log_metric_by_epoch=False, type='LoggerHook'))
default_scope = None
log_processor = dict(by_epoch=False)
lr = 0.001
max_epochs = 3
model = dict(type='ToyModel')
optim_wrapper = dict(
    optimizer=dict(lr=0.001, type='AdamW', weight_decay=0),
    type='OptimWrapper')
param_scheduler = [
    dict(
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True,
        end=0.30000000000000004,
        start_factor=1e-05,
        type='LinearLR'),
    dict(
        begin=0.30000000000000004,
        by_epoch=True,
        convert_to_iter_based=True,
        end=3,
        eta_min=0.0,
        type='CosineAnnealingLR'),
]
randomness = dict(seed=0)
train_cfg = dict(max_epochs=3, type='TrainLoop')
train_dataloader = dict(
    batch_size=8,
    collate_fn=dict(type='default_collate'),
    dataset=dict(n=160, type='ToyDS'),
    sampler=dict(shuffle=True, type='DefaultSampler'))
visualizer = dict(
    type='Visualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
        dict(type='TensorboardVisBackend'),
    ])
warmup_ratio = 0.1
work_dir = 'mmengine_fresh_restart'
