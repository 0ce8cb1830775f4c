using Grpc.Core;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Recommend.Qdrant;

/// <summary>
/// Reads: retry (jittered) → shared circuit breaker → per-attempt timeout. Writes: breaker → timeout, never retried,
/// because a write whose reply was lost may have been applied. Both share one breaker so an unreachable Qdrant
/// fails every call fast once it has opened.
/// </summary>
internal sealed class ResiliencePipelines
{
    public ResiliencePipeline Reads { get; }
    public ResiliencePipeline Writes { get; }

    public ResiliencePipelines(QdrantIndexOptions options, ILogger logger)
    {
        var breaker = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                FailureRatio = 0.5,
                // One read whose every attempt failed is enough evidence: the next caller should not wait.
                MinimumThroughput = Math.Max(2, options.ReadRetries + 1),
                SamplingDuration = TimeSpan.FromSeconds(5),
                BreakDuration = options.BreakDuration,
                OnOpened = args =>
                {
                    logger.LogWarning(args.Outcome.Exception, "Qdrant circuit opened for {BreakDuration}", args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    logger.LogInformation("Qdrant circuit closed");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

        var reads = new ResiliencePipelineBuilder();
        if (options.ReadRetries > 0)
            reads.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => IsTransient(e) && e is not BrokenCircuitException),
                MaxRetryAttempts = options.ReadRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(25),
                MaxDelay = TimeSpan.FromMilliseconds(250),
            });
        Reads = reads.AddPipeline(breaker).AddTimeout(options.Timeout).Build();

        Writes = new ResiliencePipelineBuilder()
            .AddPipeline(breaker)
            .AddTimeout(options.WriteTimeout)
            .Build();
    }

    /// <summary>Failures that say "Qdrant is not answering", as opposed to "Qdrant answered no".</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        BrokenCircuitException or TimeoutRejectedException => true,
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded,
        _ => false,
    };
}
