using Grpc.Core;
using Grpc.Core.Interceptors;
using Recommend.Core.Errors;

namespace Recommend.Api.Grpc;

/// <summary>
/// Maps the core's error kinds to gRPC status codes, so clients get NOT_FOUND/UNAVAILABLE/... instead of INTERNAL.
/// Adapters and engines raise these kinds (translating their backends' faults), so this is the only mapping there is.
/// </summary>
internal sealed class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    /// <summary>What UNAVAILABLE answers suggest: long enough for a pooled connection or a pod to come back.</summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    private RpcException? Map(Exception ex, ServerCallContext context)
    {
        switch (ex)
        {
            case RpcException:
                return null; // already a deliberate status
            case InvalidRequestException invalid:
                return RichStatus.InvalidArgument(invalid.Field, invalid.Message);
            case NotFoundException:
                return RichStatus.Build(StatusCode.NotFound, ex.Message);
            case PreconditionFailedException:
                return RichStatus.Build(StatusCode.FailedPrecondition, ex.Message);
            case DependencyUnavailableException unavailable:
                // The detail (addresses, socket errors) goes to the log; the client learns which dependency and when to retry.
                logger.LogWarning(ex, "Dependency unavailable in {Method}", context.Method);
                return RichStatus.Unavailable(ex.Message, unavailable.Dependency, RetryAfter);
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                return RichStatus.Build(context.Deadline <= DateTime.UtcNow ? StatusCode.DeadlineExceeded : StatusCode.Cancelled,
                    context.Deadline <= DateTime.UtcNow ? "the deadline passed before the call finished" : "cancelled by the client");
            default:
                logger.LogError(ex, "Unhandled failure in {Method}", context.Method);
                return RichStatus.Build(StatusCode.Internal, "internal error; see server logs");
        }
    }
}
