using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Recommend.Api.Telemetry;

/// <summary>Times every call, refused ones included, and records it under the status the client saw.</summary>
internal sealed class CallMetricsInterceptor(ServiceMetrics metrics) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(request, context);
            metrics.Call(context.Method, context.Status.StatusCode, Stopwatch.GetElapsedTime(started));
            return response;
        }
        catch (Exception ex)
        {
            metrics.Call(context.Method, StatusOf(ex, context), Stopwatch.GetElapsedTime(started));
            throw;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(requestStream, context);
            metrics.Call(context.Method, context.Status.StatusCode, Stopwatch.GetElapsedTime(started));
            return response;
        }
        catch (Exception ex)
        {
            metrics.Call(context.Method, StatusOf(ex, context), Stopwatch.GetElapsedTime(started));
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await continuation(request, responseStream, context);
            metrics.Call(context.Method, context.Status.StatusCode, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception ex)
        {
            metrics.Call(context.Method, StatusOf(ex, context), Stopwatch.GetElapsedTime(started));
            throw;
        }
    }

    private static StatusCode StatusOf(Exception ex, ServerCallContext context) => ex switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException when context.CancellationToken.IsCancellationRequested =>
            context.Deadline <= DateTime.UtcNow ? StatusCode.DeadlineExceeded : StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };
}
