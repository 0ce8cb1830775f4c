using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Qdrant.Client.Grpc;

namespace Recommend.Testing.Qdrant;

/// <summary>Marker type the gRPC endpoints hang off; every method is bound by <see cref="QdrantMethods"/>.</summary>
public sealed class QdrantProtocolService;

/// <summary>A request the double accepted, for tests that check what the adapter sent.</summary>
public sealed record ReceivedRequest(string Method, IMessage Message);

/// <summary>
/// Qdrant.Client ships client stubs only, so the server side is bound by hand: one <see cref="Method{TRequest,TResponse}"/>
/// per RPC over the package's own message types, with the service and method names from Qdrant's protos.
/// </summary>
internal sealed class QdrantMethods(FakeQdrantState state, string? apiKey, ConcurrentQueue<ReceivedRequest> log)
    : IServiceMethodProvider<QdrantProtocolService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<QdrantProtocolService> context)
    {
        const string collections = "qdrant.Collections", points = "qdrant.Points";
        Bind(context, collections, "Create", CreateCollection.Parser, state.Create);
        Bind(context, collections, "Get", GetCollectionInfoRequest.Parser, state.Describe);
        Bind(context, collections, "List", ListCollectionsRequest.Parser, _ => state.List());
        Bind(context, collections, "Delete", DeleteCollection.Parser, state.Delete);
        Bind(context, collections, "UpdateAliases", ChangeAliases.Parser, state.UpdateAliases);
        Bind(context, collections, "ListAliases", ListAliasesRequest.Parser, _ => state.ListAliases());
        Bind(context, points, "Upsert", UpsertPoints.Parser, state.Upsert);
        Bind(context, points, "Delete", DeletePoints.Parser, state.DeletePoints);
        Bind(context, points, "Get", GetPoints.Parser, state.GetPoints);
        Bind(context, points, "Query", QueryPoints.Parser, state.Query);
        Bind(context, points, "QueryBatch", QueryBatchPoints.Parser, state.QueryBatch);
        Bind(context, points, "Count", CountPoints.Parser, state.Count);
        Bind(context, points, "CreateFieldIndex", CreateFieldIndexCollection.Parser, state.CreateFieldIndex);
        // Qdrant lets health checks through without a key, so load balancers can probe it.
        Bind(context, "qdrant.Qdrant", "HealthCheck", HealthCheckRequest.Parser,
            _ => new HealthCheckReply { Title = "qdrant - in-process test double", Version = "1.16.0" }, requiresKey: false);
    }

    private void Bind<TRequest, TResponse>(
        ServiceMethodProviderContext<QdrantProtocolService> context, string service, string name,
        MessageParser<TRequest> parser, Func<TRequest, TResponse> handle, bool requiresKey = true)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>, new()
    {
        var method = new Method<TRequest, TResponse>(
            MethodType.Unary, service, name,
            Marshallers.Create<TRequest>(m => m.ToByteArray(), parser.ParseFrom),
            Marshallers.Create<TResponse>(m => m.ToByteArray(), new MessageParser<TResponse>(() => new TResponse()).ParseFrom));
        context.AddUnaryMethod(method, [], async (_, request, call) =>
        {
            if (requiresKey)
                Authenticate(call);
            log.Enqueue(new ReceivedRequest($"{service}/{name}", request));
            await Task.Delay(state.ResponseDelay, call.CancellationToken);
            return handle(request);
        });
    }

    /// <summary>Qdrant answers both a missing and a wrong key with UNAUTHENTICATED (PERMISSION_DENIED is for JWT scopes).</summary>
    private void Authenticate(ServerCallContext call)
    {
        if (apiKey is null)
            return;
        var presented = call.RequestHeaders.GetValue("api-key")
            ?? call.RequestHeaders.GetValue("authorization")?.RemovePrefix("Bearer ");
        if (presented is null)
            throw new RpcException(new Status(StatusCode.Unauthenticated, "Must provide an API key or an Authorization bearer token"));
        if (presented != apiKey)
            throw new RpcException(new Status(StatusCode.Unauthenticated, "Invalid API key or JWT"));
    }
}

internal static class StringExtensions
{
    public static string? RemovePrefix(this string value, string prefix) =>
        value.StartsWith(prefix, StringComparison.Ordinal) ? value[prefix.Length..] : null;
}
