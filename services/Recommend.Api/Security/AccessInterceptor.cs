using Grpc.Core;
using Grpc.Core.Interceptors;
using Recommend.Api.Grpc;
using Recommend.Api.Telemetry;

namespace Recommend.Api.Security;

/// <summary>
/// Who may call what, for gRPC and its JSON transcoding alike: the key from x-api-key or authorization: Bearer, the
/// scope the method needs, the key's rate limit; then the audit line for calls that change data.
/// </summary>
internal sealed class AccessInterceptor(ApiKeyRing keys, ClientRateLimiter limiter, AuditTrail audit, ServiceMetrics metrics) : Interceptor
{
    /// <summary>Every caller when no keys are configured (the host then only listens on loopback, unless told otherwise).</summary>
    private static readonly ApiClient Anonymous = new("anonymous", new HashSet<Scope> { Scope.Admin }, int.MaxValue);

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        AuditedAsync(Admit(context), context, request, () => continuation(request, context));

    /// <summary>The request is a stream here: the audit line counts from the response.</summary>
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        AuditedAsync(Admit(context), context, null, () => continuation(requestStream, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Admit(context);
        return continuation(requestStream, responseStream, context);
    }

    private async Task<TResponse> AuditedAsync<TResponse>(ApiClient? client, ServerCallContext context, object? request, Func<Task<TResponse>> call)
    {
        try
        {
            var response = await call();
            audit.Succeeded(client, context.Method, request, response);
            return response;
        }
        catch (Exception ex)
        {
            audit.Failed(client, context.Method, request, ex);
            throw;
        }
    }

    /// <returns>The caller, or null for the open services (health, reflection).</returns>
    private ApiClient? Admit(ServerCallContext context)
    {
        if (Scopes.Needed(context.Method) is not { } needed) return null;
        if (keys.IsEmpty) return Anonymous;

        var presented = PresentedKey(context.RequestHeaders);
        if (presented is null)
        {
            metrics.Rejected("unauthenticated");
            throw RichStatus.Unauthenticated("an API key is required: send it as x-api-key metadata or authorization: Bearer KEY", "API_KEY_MISSING");
        }
        var client = keys.Authenticate(presented);
        if (client is null)
        {
            metrics.Rejected("unauthenticated");
            throw RichStatus.Unauthenticated("the API key is not valid", "API_KEY_INVALID");
        }
        if (!client.Scopes.Allows(needed))
        {
            metrics.Rejected("permission_denied");
            audit.Denied(client, context.Method, needed);
            throw RichStatus.PermissionDenied($"{context.Method.TrimStart('/')} needs the '{needed.Name()}' scope, which key '{client.Name}' does not hold", needed.Name());
        }
        if (limiter.TryAdmit(client) is { } retryAfter)
        {
            metrics.Rejected("rate_limited");
            throw RichStatus.ResourceExhausted($"rate limit of key '{client.Name}' reached ({client.RequestsPerSecond}/s); retry after {retryAfter.TotalMilliseconds:0} ms", retryAfter);
        }
        return client;
    }

    private static string? PresentedKey(Metadata headers)
    {
        if (headers.GetValue("x-api-key") is { Length: > 0 } key) return key;
        var authorization = headers.GetValue("authorization");
        return authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7
            ? authorization[7..].Trim()
            : null;
    }
}
