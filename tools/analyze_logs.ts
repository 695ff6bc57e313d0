// tools/analyze_logs: mmdetection's analyze_logs.py for our `<timestamp>.log.json` files.
//   tools/analyze_logs plot_curve <log.json>... --keys loss_cls loss_bbox [--legend ..] [--title ..] --out curve.png
//   tools/analyze_logs cal_train_time <log.json>... [--include-outliers]
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { writeChart } from '../visualization/plot';
import { calTrainTime, curvePoints, curveSpec, formatTrainTime, readJsonLog } from './lib/analyze_logs';
import { failLine, runTool } from './lib/cli';

runTool(async () => {
  // Subcommands are parsed here and run below, so their errors are user errors (exit 1, one line),
  // not yargs usage failures.
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/analyze_logs')
    .usage('$0 <plot_curve|cal_train_time> <log.json>... [options]\n\nCurves and train-time statistics of training logs (<work_dir>/<timestamp>.log.json), as mmdetection\'s analyze_logs.py.')
    .command(
      'plot_curve <json_logs..>',
      'draw keys (losses, lr, metrics) over iterations to a PNG (or .svg)',
      (y) =>
        y
          .positional('json_logs', { type: 'string', array: true, demandOption: true, describe: '.log.json files' })
          .option('keys', { type: 'string', array: true, default: ['bbox_mAP'], describe: 'logged keys to plot (e.g. loss_cls loss_bbox, lr, bbox_mAP, mIoU)' })
          .option('legend', { type: 'string', array: true, describe: 'series names, one per (log, key)' })
          .option('title', { type: 'string', describe: 'chart title' })
          .option('out', { type: 'string', demandOption: true, describe: 'output .png (or .svg)' }),
    )
    .command(
      'cal_train_time <json_logs..>',
      'slowest/fastest epoch, std over epochs and average iteration time',
      (y) =>
        y
          .positional('json_logs', { type: 'string', array: true, demandOption: true, describe: '.log.json files' })
          .option('include-outliers', { type: 'boolean', default: false, describe: "keep each epoch's first logged time" }),
    )
    .demandCommand(1, 'give a subcommand: plot_curve or cal_train_time')
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const a = argv as unknown as { json_logs: string[]; keys: string[]; legend?: string[]; title?: string; out: string; 'include-outliers': boolean };
  if (argv._[0] === 'plot_curve') {
    const logs = a.json_logs.map((p) => ({ path: p, records: readJsonLog(p) }));
    const pts = curvePoints(logs, a.keys, a.legend);
    const out = await writeChart(curveSpec(pts, a.title), a.out);
    console.log(`plotted ${a.keys.join(', ')} of ${logs.length} log(s) (${pts.length} points) to ${out}`);
  } else {
    for (const p of a.json_logs) console.log(formatTrainTime(p, calTrainTime(readJsonLog(p), p, a['include-outliers'])));
  }
});
