using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Recommend.Embeddings.Qwen;

/// <summary>
/// One ONNX Runtime session over a Qwen3-Embedding export, either interface found in the wild, detected from the
/// session's input metadata: (a) input_ids + attention_mask; (b) also position_ids and past_key_values.N.key/value,
/// which are fed empty ([batch, kv heads, 0, head dim]). Run is thread-safe, as ONNX Runtime's is.
/// </summary>
internal sealed class QwenOnnxSession : IDisposable
{
    private const string InputIds = "input_ids", AttentionMask = "attention_mask", PositionIds = "position_ids";
    private const string PastPrefix = "past_key_values.", LastHiddenState = "last_hidden_state";

    private readonly InferenceSession _session;
    private readonly string[] _pastInputs;
    private readonly bool _feedsPositions;
    private readonly long _kvHeads, _headDim;

    /// <summary>Width of last_hidden_state, or −1 when the graph leaves it symbolic.</summary>
    public int HiddenSize { get; }
    public string ExecutionProvider { get; }
    public string InterfaceDescription => _pastInputs.Length > 0 || _feedsPositions
        ? $"input_ids+attention_mask+position_ids+{_pastInputs.Length} empty past_key_values" : "input_ids+attention_mask";

    private QwenOnnxSession(InferenceSession session, string executionProvider)
    {
        _session = session;
        ExecutionProvider = executionProvider;
        var inputs = session.InputMetadata;
        foreach (var required in new[] { InputIds, AttentionMask })
        {
            if (!inputs.TryGetValue(required, out var meta) || meta.ElementDataType != TensorElementType.Int64)
                throw new NotSupportedException($"The ONNX model needs an int64 input '{required}'; it has: {string.Join(", ", inputs.Keys)}.");
        }
        _pastInputs = inputs.Keys.Where(n => n.StartsWith(PastPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        _feedsPositions = inputs.ContainsKey(PositionIds);
        var unknown = inputs.Keys.Except([InputIds, AttentionMask, PositionIds, .. _pastInputs]).ToArray();
        if (unknown.Length > 0) throw new NotSupportedException($"Unsupported ONNX model inputs: {string.Join(", ", unknown)}.");
        if (_pastInputs.Length > 0)
        {
            var dims = inputs[_pastInputs[0]].Dimensions; // [batch, kv heads, past length, head dim]
            if (dims.Length != 4 || dims[1] <= 0 || dims[3] <= 0)
                throw new NotSupportedException($"{_pastInputs[0]} must be [batch, kv_heads, past, head_dim] with fixed heads and head dim; it is [{string.Join(", ", dims)}].");
            (_kvHeads, _headDim) = (dims[1], dims[3]);
        }
        if (!session.OutputMetadata.TryGetValue(LastHiddenState, out var output))
            throw new NotSupportedException($"The ONNX model has no '{LastHiddenState}' output; it has: {string.Join(", ", session.OutputMetadata.Keys)}.");
        HiddenSize = output.Dimensions.Length == 3 ? output.Dimensions[2] : -1;
    }

    public static QwenOnnxSession Open(string onnxPath, QwenEmbedderOptions options, ILogger logger)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
        };
        var provider = "CPU";
        if (options.UseCuda)
        {
            try
            {
                sessionOptions.AppendExecutionProvider_CUDA(0);
                provider = "CUDA";
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                logger.LogWarning("CUDA execution provider requested but unavailable ({Reason}); running on CPU.", e.Message);
            }
        }
        else
        {
            logger.LogInformation("ONNX Runtime runs the embedding model on CPU (UseCuda is off).");
        }
        return new QwenOnnxSession(new InferenceSession(onnxPath, sessionOptions), provider);
    }

    /// <summary>Runs one batch, left-padded to its longest row; returns each row's hidden state at the last position.</summary>
    public float[][] LastTokenStates(IReadOnlyList<int[]> rows, CancellationToken ct)
    {
        var batch = rows.Count;
        var width = rows.Max(r => r.Length);
        var ids = new long[batch * width];
        var mask = new long[batch * width];
        var positions = new long[batch * width];
        Array.Fill(ids, Qwen3Tokenizer.EndOfTextId); // padding id; masked out, and pads sit left of the pooled last token
        for (var r = 0; r < batch; r++)
        {
            var start = r * width + width - rows[r].Length;
            for (var j = 0; j < rows[r].Length; j++)
            {
                ids[start + j] = rows[r][j];
                mask[start + j] = 1;
                positions[start + j] = j; // cumsum(mask) − 1; pads stay 0
            }
        }

        long[] shape = [batch, width];
        var names = new List<string> { InputIds, AttentionMask };
        using var values = new DisposableList
        {
            OrtValue.CreateTensorValueFromMemory(ids, shape),
            OrtValue.CreateTensorValueFromMemory(mask, shape),
        };
        if (_feedsPositions)
        {
            names.Add(PositionIds);
            values.Add(OrtValue.CreateTensorValueFromMemory(positions, shape));
        }
        foreach (var past in _pastInputs)
        {
            names.Add(past);
            values.Add(OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, [batch, _kvHeads, 0, _headDim]));
        }

        using var runOptions = new RunOptions();
        using var cancellation = ct.Register(() => runOptions.Terminate = true); // stops a long batch mid-way
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _session.Run(runOptions, names, values, [LastHiddenState]);
        }
        catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
        using (outputs)
        {
            var hiddenState = outputs.First();
            var hidden = (int)hiddenState.GetTensorTypeAndShape().Shape[2];
            var data = hiddenState.GetTensorDataAsSpan<float>();
            var states = new float[batch][];
            for (var r = 0; r < batch; r++)
                states[r] = data.Slice(((r + 1) * width - 1) * hidden, hidden).ToArray();
            return states;
        }
    }

    public void Dispose() => _session.Dispose();

    private sealed class DisposableList : List<OrtValue>, IDisposable
    {
        public void Dispose() => ForEach(v => v.Dispose());
    }
}
