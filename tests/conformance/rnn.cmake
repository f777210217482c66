# RNN, GRU and LSTM (ops/core/rnn.c): the official node folders.
add_test(NAME conformance_rnn COMMAND onnorm test --strict
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
# PyTorch exports of nn.LSTM / nn.GRU / nn.RNN (testdata/gen_rnn_torch.py).
file(GLOB CONF_RNN_TORCH LIST_DIRECTORIES true "${CMAKE_SOURCE_DIR}/testdata/rnn_torch/*")
if(NOT CONF_RNN_TORCH)
  message(FATAL_ERROR "No folders under testdata/rnn_torch; run testdata/gen_rnn_torch.py")
endif()
add_test(NAME conformance_rnn_torch COMMAND onnorm test --strict ${CONF_RNN_TORCH} --rtol 1e-4 --atol 1e-5)
# Attributes, sequence_lens, layouts and types the above leave out, against
# the NumPy reference in testdata/gen_rnn_ref.py (default tolerances).
file(GLOB CONF_RNN_REF LIST_DIRECTORIES true "${CMAKE_SOURCE_DIR}/testdata/rnn_ref/*")
if(NOT CONF_RNN_REF)
  message(FATAL_ERROR "No folders under testdata/rnn_ref; run testdata/gen_rnn_ref.py")
endif()
add_test(NAME conformance_rnn_ref COMMAND onnorm test --strict ${CONF_RNN_REF})
