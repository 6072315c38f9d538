// Runs an ONNX model in onnxruntime for fersweep's tests.
//   node run_model.js MODEL.onnx INPUT.json OUTPUT.json
// INPUT.json: {"dims": [N, C, H, W], "pixels": [...]} (row-major, fed as float32 to "pixels").
// OUTPUT.json: {"dims": [N, classes], "logits": [...], "probabilities": [...], "inputs": [...],
//               "outputs": [...]} (the session's input and output names)
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, inputPath, outputPath] = process.argv.slice(2);
  if (!outputPath) throw new Error('usage: node run_model.js MODEL.onnx INPUT.json OUTPUT.json');
  const input = JSON.parse(fs.readFileSync(inputPath, 'utf8'));
  // One thread and no graph rewrites beyond the basic ones, so that the check reads the graph as
  // written rather than onnxruntime's fused version of it.
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'basic',
  });
  const pixels = new ort.Tensor('float32', Float32Array.from(input.pixels), input.dims);
  const result = await session.run({pixels});
  fs.writeFileSync(outputPath, JSON.stringify({
    dims: result.logits.dims,
    logits: Array.from(result.logits.data),
    probabilities: Array.from(result.probabilities.data),
    inputs: session.inputNames,
    outputs: session.outputNames,
  }));
}

main().catch((error) => {
  console.error(`run_model.js: ${error.message}`);
  process.exit(1);
});
