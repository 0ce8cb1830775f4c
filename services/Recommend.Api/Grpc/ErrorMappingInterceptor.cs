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
        var status = ex switch
        {
            RpcException => (StatusCode?)null, // already a deliberate status
            InvalidRequestException => StatusCode.InvalidArgument,
            NotFoundException => StatusCode.NotFound,
            PreconditionFailedException => StatusCode.FailedPrecondition,
            DependencyUnavailableException => StatusCode.Unavailable,
            OperationCanceledException when context.CancellationToken.IsCancellationRequested => StatusCode.Cancelled,
            _ => StatusCode.Internal,
        };
        if (status is null) return null;
        if (status == StatusCode.Internal) logger.LogError(ex, "Unhandled failure in {Method}", context.Method);
        else if (status == StatusCode.Unavailable) logger.LogWarning(ex, "Dependency unavailable in {Method}", context.Method);
        var detail = ex switch
        {
            InvalidRequestException invalid => $"{invalid.Field}: {invalid.Message}",
            RecommendException => ex.Message,
            _ when status == StatusCode.Cancelled => "cancelled by the client",
            _ => "internal error; see server logs",
        };
        return new RpcException(new Status(status.Value, detail, ex));
    }
}
