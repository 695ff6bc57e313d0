// The prediction of an image classifier, shared by models (ImageClassifier.predict), the Accuracy
// evaluator and tools/infer.

/** One image's class scores: softmax probabilities (mmpretrain's pred_score), one per class. */
export interface ClsResult {
  scores: Float32Array;
}
