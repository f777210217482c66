# RNN, GRU and LSTM (ops/core/rnn.c): the official node folders.
add_test(NAME conformance_rnn COMMAND onnorm test
  ${ONNX_NODE}/test_gru_batchwise
  ${ONNX_NODE}/test_gru_defaults
  ${ONNX_NODE}/test_gru_seq_length
  ${ONNX_NODE}/test_gru_with_initial_bias
  ${ONNX_NODE}/test_lstm_batchwise
  ${ONNX_NODE}/test_lstm_defaults
  ${ONNX_NODE}/test_lstm_with_initial_bias
  ${ONNX_NODE}/test_lstm_with_peepholes
  ${ONNX_NODE}/test_rnn_seq_length
  ${ONNX_NODE}/test_simple_rnn_batchwise
  ${ONNX_NODE}/test_simple_rnn_defaults
  ${ONNX_NODE}/test_simple_rnn_with_initial_bias)
