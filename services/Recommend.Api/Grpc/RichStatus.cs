using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Recommend.Api.Grpc;

/// <summary>
/// Errors as google.rpc.Status with details clients act on without parsing text: BadRequest for the field at fault,
/// RetryInfo for when to try again, ErrorInfo for a machine-readable reason. Messages are capped, so no input a client
/// sends can grow the trailers past what HTTP/2 peers accept.
/// </summary>
internal static class RichStatus
{
    public const string Domain = "recommend";
    private const int MaxMessageLength = 512;

    /// <summary>The detail messages errors carry; JSON transcoding writes them into the error body, so it must know them.</summary>
    public static readonly Google.Protobuf.Reflection.TypeRegistry DetailTypes =
        Google.Protobuf.Reflection.TypeRegistry.FromMessages(BadRequest.Descriptor, ErrorInfo.Descriptor, RetryInfo.Descriptor);

    public static RpcException InvalidArgument(string field, string description) =>
        Build(StatusCode.InvalidArgument, $"{field}: {description}",
            new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = Cap(field), Description = Cap(description) } } });

    public static RpcException Unauthenticated(string message, string reason) =>
        Build(StatusCode.Unauthenticated, message, Info(reason));

    public static RpcException PermissionDenied(string message, string scope) =>
        Build(StatusCode.PermissionDenied, message, Info("MISSING_SCOPE", ("scope", scope)));

    public static RpcException ResourceExhausted(string message, TimeSpan retryAfter) =>
        Build(StatusCode.ResourceExhausted, message, Info("RATE_LIMITED"), Retry(retryAfter));

    public static RpcException Unavailable(string message, string dependency, TimeSpan retryAfter) =>
        Build(StatusCode.Unavailable, message, Info("DEPENDENCY_UNAVAILABLE", ("dependency", dependency)), Retry(retryAfter));

    public static RpcException Build(StatusCode code, string message, params Google.Protobuf.IMessage[] details)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = Cap(message) };
        foreach (var detail in details) status.Details.Add(Any.Pack(detail));
        return status.ToRpcException();
    }

    private static ErrorInfo Info(string reason, params (string Key, string Value)[] metadata)
    {
        var info = new ErrorInfo { Reason = reason, Domain = Domain };
        foreach (var (key, value) in metadata) info.Metadata[key] = Cap(value);
        return info;
    }

    private static RetryInfo Retry(TimeSpan after) => new() { RetryDelay = Duration.FromTimeSpan(after) };

    private static string Cap(string text) => text.Length <= MaxMessageLength ? text : string.Concat(text.AsSpan(0, MaxMessageLength - 1), "…");
}
