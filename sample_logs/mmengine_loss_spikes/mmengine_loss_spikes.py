default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=1000000, type='CheckpointHook'),
    logger=dict(interval=1, log_metric_by_epoch=False, type='LoggerHook'))
default_scope = None
log_processor = dict(by_epoch=False)
model = dict(type='ToyRegressor')
optim_wrapper = dict(
    clip_grad=dict(max_norm=10.0),
    optimizer=dict(lr=0.01, momentum=0.9, type='SGD'),
    type='OptimWrapper')
param_scheduler = [
    dict(
        begin=0,
        by_epoch=False,
        end=160,
        eta_min=0.0,
        type='CosineAnnealingLR'),
]
randomness = dict(seed=0)
train_cfg = dict(max_iters=160, type='IterBasedTrainLoop')
train_dataloader = dict(
    batch_size=8,
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        n=1280, task='regression', type='ToyDS', wrong_unit_idx=(
            2,
            17,
            400,
        )),
    sampler=dict(shuffle=True, type='DefaultSampler'))
visualizer = dict(
    type='Visualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
        dict(type='TensorboardVisBackend'),
    ])
work_dir = 'mmengine_loss_spikes'
