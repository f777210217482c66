#!/usr/bin/env node
// Times models in ONNX Runtime (onnxruntime-node, CPU) the way `onnorm bench`
// does: every input filled with the same deterministic sequence in [-1, 1)
// that onnorm uses, one warm-up run, then the median of --repeat runs.
// Prints one JSON line per model. The inputs are filled once and shared.
//   node ort_run.js MODEL... --input NAME:D0xD1x... [...] [--repeat R] [--threads T]
//                   [--opt disabled|basic|extended|all]
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

function fill(n) {
  // 64-bit LCG, identical to tools/onnorm.c fill_input().
  const out = new Float32Array(n);
  let state = 0x9E3779B97F4A7C15n;
  const mask = (1n << 64n) - 1n;
  for (let i = 0; i < n; i++) {
    state = (state * 6364136223846793005n + 1442695040888963407n) & mask;
    out[i] = Number(state >> 11n) / 9007199254740992 * 2 - 1;
  }
  return out;
}

async function main() {
  ort.env.logLevel = 'error'; /* opset-6 models make ORT warn on every load */
  const args = process.argv.slice(2);
  let repeat = 50, threads = 0, level = 'all';
  const feeds = {};
  const models = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--repeat') repeat = parseInt(args[++i], 10);
    else if (args[i] === '--threads') threads = parseInt(args[++i], 10);
    else if (args[i] === '--opt') level = args[++i];
    else if (args[i] === '--input') {
      const [name, shape] = args[++i].split(':');
      const dims = shape.split('x').map(Number);
      feeds[name] = new ort.Tensor('float32', fill(dims.reduce((a, b) => a * b, 1)), dims);
    } else models.push(args[i]);
  }
  const opts = { graphOptimizationLevel: level };
  if (threads > 0) { opts.intraOpNumThreads = threads; opts.interOpNumThreads = 1; }
  /* All sessions first, then the runs interleaved (one of each model per
   * round), so that a slow spell on this shared machine hits every model
   * alike instead of skewing t(K) - t(1). */
  const sessions = [];
  for (const model of models) sessions.push(await ort.InferenceSession.create(model, opts));
  const times = sessions.map(() => []);
  const outs = [];
  for (const s of sessions) outs.push(await s.run(feeds));
  for (let r = 0; r < repeat; r++)
    for (let i = 0; i < sessions.length; i++) {
      const t0 = process.hrtime.bigint();
      outs[i] = await sessions[i].run(feeds);
      times[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  for (let i = 0; i < sessions.length; i++) {
    const t = times[i].sort((a, b) => a - b);
    const first = outs[i][sessions[i].outputNames[0]];
    let sum = 0;
    for (const v of first.data) sum += v;
    console.log(JSON.stringify({ model: models[i], threads, median_ms: t[t.length >> 1], min_ms: t[0],
      output: sessions[i].outputNames[0], mean: sum / first.data.length, runs: repeat }));
    await sessions[i].release();
  }
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
