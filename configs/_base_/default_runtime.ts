// mmdet default runtime: a checkpoint every epoch, a text log every 50 iterations, no resume.
import { defineConfig } from '../../core/config';

export default defineConfig({
  checkpoint_config: { interval: 1 },
  log_config: { interval: 50, hooks: [{ type: 'TextLoggerHook' }] },
  log_level: 'INFO',
  load_from: null,
  resume_from: null,
  workflow: [['train', 1]],
});
