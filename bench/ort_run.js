#!/usr/bin/env node
// Times models in ONNX Runtime (onnxruntime-node, CPU) the way `onnorm bench`
// does: every input filled with the same deterministic sequence in [-1, 1)
// that onnorm uses, one warm-up run, then the median of --repeat runs.
// Prints one JSON line per model. The inputs are filled once and shared.
//   node ort_run.js MODEL... --input NAME:D0xD1x... [...] [--repeat R] [--threads T]
//                   [--opt disabled|basic|extended|all]
//                   [--feed NAME=FILE.npy ...] [--dump DIR]
// --feed gives an input's values from a NumPy file (float32/int64/int32/
// uint8/bool, C order) instead of the fill sequence; --dump writes every
// output of the first run as DIR/<output name>.npy (names with / \ : or
// space get _ as `onnorm run --output-dir` does).
'use strict';
const path = require('path');
const fs = require('fs');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

const NPY = { '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array], '|u1': ['uint8', Uint8Array], '|b1': ['bool', Uint8Array],
  '<f8': ['float64', Float64Array] };

function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = b[6];
  const hlen = major >= 2 ? b.readUInt32LE(8) : b.readUInt16LE(8);
  const start = (major >= 2 ? 12 : 10) + hlen;
  const header = b.toString('latin1', major >= 2 ? 12 : 10, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const dims = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').filter((d) => d.trim()).map(Number);
  const t = NPY[descr];
  if (!t) throw new Error(`${file}: dtype ${descr} not supported`);
  const data = b.buffer.slice(b.byteOffset + start, b.byteOffset + b.length);
  return new ort.Tensor(t[0], new t[1](data.slice(0)), dims);
}

function writeNpy(file, tensor) {
  const descr = Object.keys(NPY).find((k) => NPY[k][0] === tensor.type);
  if (!descr) throw new Error(`cannot dump a ${tensor.type} tensor`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((header.length + 10) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const d = tensor.data;
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'),
    Buffer.from(d.buffer, d.byteOffset, d.byteLength)]));
}

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
  let repeat = 50, threads = 0, level = 'all', dump = null;
  const feeds = {};
  const models = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--repeat') repeat = parseInt(args[++i], 10);
    else if (args[i] === '--threads') threads = parseInt(args[++i], 10);
    else if (args[i] === '--opt') level = args[++i];
    else if (args[i] === '--dump') dump = args[++i];
    else if (args[i] === '--feed') {
      const a = args[++i], eq = a.indexOf('=');
      feeds[a.slice(0, eq)] = readNpy(a.slice(eq + 1));
    }
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
  if (dump) {
    fs.mkdirSync(dump, { recursive: true });
    for (const [name, t] of Object.entries(outs[0]))
      writeNpy(path.join(dump, name.replace(/[/\\: ]/g, '_') + '.npy'), t);
  }
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
