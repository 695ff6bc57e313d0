// mmseg 0.30 default runtime: a text log every 50 iterations, no resume. Unlike mmdet's runtime it
// sets no checkpoint_config (the seg schedules do, per iteration).
import { defineConfig } from '../../core/config';

export default defineConfig({
  log_config: { interval: 50, hooks: [{ type: 'TextLoggerHook', by_epoch: false }] },
  log_level: 'INFO',
  load_from: null,
  resume_from: null,
  workflow: [['train', 1]],
});
