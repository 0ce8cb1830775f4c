using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Recommend.Api.Grpc;

/// <summary>
/// Unparseable request messages (random bytes, invalid UTF-8) answer INVALID_ARGUMENT with a short message and one
/// rate-limited warning, instead of grpc-dotnet's UNKNOWN and a stack trace at error level per request. grpc-dotnet
/// deserializes unary requests before any interceptor runs, so the only hook is the method's marshaller: this swaps
/// its default method provider for one that binds the same methods with a guarded request deserializer.
/// </summary>
internal static class MalformedRequests
{
    private const string DefaultProvider = "Grpc.AspNetCore.Server.Model.Internal.BinderServiceMethodProvider`1";

    /// <summary>Call after AddGrpc: it registers the default provider this replaces (and would again if called later).</summary>
    public static IServiceCollection AnswerMalformedRequestsWithInvalidArgument(this IServiceCollection services)
    {
        var removed = 0;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(IServiceMethodProvider<>) &&
                descriptor.ImplementationType?.FullName == DefaultProvider)
            {
                services.RemoveAt(i);
                removed++;
            }
        }
        if (removed == 0)
            throw new InvalidOperationException($"grpc-dotnet's {DefaultProvider} is not registered: call after AddGrpc(), or grpc-dotnet renamed it");
        services.TryAddSingleton<MalformedRequestLog>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IServiceMethodProvider<>), typeof(StrictBinderServiceMethodProvider<>)));
        return services;
    }
}

/// <summary>At most one warning per ten seconds, counting the ones it held back: a flood of junk cannot flood the log.</summary>
internal sealed class MalformedRequestLog(ILogger<MalformedRequestLog> logger)
{
    private const long WindowMs = 10_000;
    private long _next;
    private long _suppressed;

    public void Rejected(string method, InvalidProtocolBufferException ex)
    {
        var now = Environment.TickCount64;
        var next = Interlocked.Read(ref _next);
        if (now < next || Interlocked.CompareExchange(ref _next, now + WindowMs, next) != next)
        {
            Interlocked.Increment(ref _suppressed);
            return;
        }
        logger.LogWarning("Rejected malformed request to {Method}: {Reason} ({Suppressed} similar suppressed)",
            method, ex.Message, Interlocked.Exchange(ref _suppressed, 0));
    }
}

/// <summary>
/// Binds a generated service's methods as grpc-dotnet's own provider does (the generated BindService with a binder that
/// finds each handler override), with each method's request deserializer guarded.
/// </summary>
internal sealed class StrictBinderServiceMethodProvider<TService>(MalformedRequestLog log) : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        var bind = FindBindMethod(typeof(TService));
        if (bind is null) return; // e.g. ServerServiceDefinition-based services; ServiceDefinitionMethodProvider<> handles those
        var binder = new Binder(context, bind.GetParameters()[1].ParameterType, log);
        try
        {
            bind.Invoke(null, [binder, null]); // generated BindService(ServiceBinderBase, XBase): handler args are null
        }
        catch (TargetInvocationException ex)
        {
            throw new InvalidOperationException($"Error binding gRPC service '{typeof(TService).Name}'.", ex.InnerException);
        }
    }

    /// <summary>The generated static BindService named by the base class's [BindServiceMethod].</summary>
    private static MethodInfo? FindBindMethod(Type serviceType)
    {
        for (var t = serviceType; t is not null; t = t.BaseType)
        {
            if (t.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } a)
                return a.BindType.GetMethod(a.BindMethodName, BindingFlags.Public | BindingFlags.Static, null,
                    [typeof(ServiceBinderBase), t], null);
        }
        return null;
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context, Type declaringType, MalformedRequestLog log)
        : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Create<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(ServerCallContext));
            context.AddUnaryMethod(Wrap(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Create<ClientStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext));
            context.AddClientStreamingMethod(Wrap(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Create<ServerStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddServerStreamingMethod(Wrap(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Create<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddDuplexStreamingMethod(Wrap(method), metadata, invoker);
        }

        private Method<TRequest, TResponse> Wrap<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class where TResponse : class
        {
            var inner = method.RequestMarshaller.ContextualDeserializer;
            var fullName = method.FullName;
            var requestMarshaller = Marshallers.Create<TRequest>(method.RequestMarshaller.ContextualSerializer, ctx =>
            {
                try
                {
                    return inner(ctx);
                }
                catch (InvalidProtocolBufferException ex) // also covers invalid UTF-8 in string fields (3.36.x)
                {
                    log.Rejected(fullName, ex);
                    // No inner exception: grpc-dotnet would log it with its stack.
                    throw RichStatus.Build(StatusCode.InvalidArgument, "the request message is not valid protobuf: " + ex.Message);
                }
            });
            return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, requestMarshaller, method.ResponseMarshaller);
        }

        /// <summary>The handler override as an open-instance delegate, with the endpoint metadata grpc-dotnet gives it.</summary>
        private (TDelegate Invoker, List<object> Metadata) Create<TDelegate>(string methodName, params Type[] parameters)
            where TDelegate : Delegate
        {
            var handlerMethod = GetMethod(methodName, parameters)
                ?? throw new InvalidOperationException($"Could not find '{methodName}' on {typeof(TService)}.");
            var metadata = new List<object>();
            metadata.AddRange(typeof(TService).GetCustomAttributes(inherit: true));
            metadata.AddRange(handlerMethod.GetCustomAttributes(inherit: true));
            metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
            return ((TDelegate)Delegate.CreateDelegate(typeof(TDelegate), handlerMethod), metadata);
        }

        private MethodInfo? GetMethod(string methodName, Type[] parameters)
        {
            for (var t = typeof(TService); t is not null; t = t.BaseType)
            {
                var m = t.GetMethod(methodName, BindingFlags.Public | BindingFlags.Instance, null, parameters, null);
                if (m is null) return null;
                if (m.IsVirtual && m.GetBaseDefinition().DeclaringType == declaringType) return m;
            }
            return null;
        }
    }
}
