// Public API of the checkpoint package: the one place that reads and writes weights (.pth,
// safetensors, our checkpoints) and loads a state_dict into a module.
export * from './checkpoint';
export * from './state_dict';
export * from './init_cfg';
