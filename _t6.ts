import { loadConfig } from './core/config';
import './models/seg_builder';
import './datasets/register';
for (const f of ['configs/sem_fpn/fpn_tinyvim_s_ade20k_40k.ts', 'configs/sem_fpn/fpn_tinyvim_b_ade20k_40k.ts', 'configs/sem_fpn/fpn_tinyvim_l_ade20k_40k.ts']) {
  try { const c = await loadConfig(f); console.log(f, 'ok', JSON.stringify(c.cfg.lr_config), JSON.stringify(c.cfg.optimizer)); } catch (e) { console.log(f, 'ERR', (e as Error).message); }
}
