using System.Xml.Linq;
using Onboarding.Netconf.Messages;

namespace Onboarding.Netconf.Datastore;

/// <summary>
/// A device's configuration held in memory (for the device simulator and tests): running and candidate as element
/// trees under a &lt;data&gt; root. <see cref="HandleRpcAsync"/> answers, as a <see cref="NetconfRpcHandler"/>:
/// get-config and get (subtree filter, <see cref="SubtreeFilter"/>), edit-config (<see cref="EditConfig"/>), commit,
/// discard-changes, lock and unlock (RFC 6241 §7.5–7.6, per session-id). Everything else, including validate (there is
/// no YANG to validate against), :url, xpath filters and confirmed commit, is answered operation-not-supported. Each
/// edit is all-or-nothing and bounded by <see cref="MaxElements"/>. Thread-safe: sessions may share one datastore.
/// </summary>
public sealed class InMemoryDatastore
{
    private static readonly XNamespace Nc = NetconfXml.Base;
    private readonly Lock _gate = new();
    private readonly EditConfig _edit;
    private readonly Dictionary<DatastoreName, uint> _locks = [];
    private XElement _running;
    private XElement _candidate;

    public InMemoryDatastore(DatastoreSchema? schema = null, XElement? running = null, int maxElements = 100_000)
    {
        _edit = new EditConfig(schema ?? DatastoreSchema.Empty);
        _running = new XElement(Nc + "data", running?.Name == Nc + "data" ? running.Elements() : running is null ? [] : [running]);
        _candidate = new XElement(_running);
        MaxElements = maxElements;
    }

    public int MaxElements { get; }

    /// <summary>A copy of the datastore's &lt;data&gt; root.</summary>
    public XElement Snapshot(DatastoreName datastore)
    {
        lock (_gate)
            return new XElement(datastore == DatastoreName.Running ? _running : _candidate);
    }

    /// <summary>RFC 6241 §7.1: the &lt;data&gt; element, filtered when a subtree filter is given.</summary>
    public XElement GetConfig(DatastoreName source, XElement? subtreeFilter = null)
    {
        var data = Snapshot(source);
        return subtreeFilter is null ? data : new XElement(Nc + "data", SubtreeFilter.Apply(data, subtreeFilter));
    }

    public void EditConfig(DatastoreName target, XElement config, DefaultOperation defaultOperation = DefaultOperation.Merge, uint sessionId = 0)
    {
        lock (_gate)
        {
            CheckLock(target, sessionId);
            var copy = new XElement(target == DatastoreName.Running ? _running : _candidate);
            _edit.Apply(copy, config, defaultOperation);
            if (copy.DescendantNodes().Count() > MaxElements)
                throw new NetconfRpcException(new RpcError(RpcErrorType.Application, "resource-denied", RpcErrorSeverity.Error, Message: $"the datastore would exceed {MaxElements} nodes"));
            if (target == DatastoreName.Running)
                _running = copy;
            else
                _candidate = copy;
        }
    }

    /// <summary>RFC 6241 §8.3.4.1: the candidate becomes the running configuration.</summary>
    public void Commit(uint sessionId = 0)
    {
        lock (_gate)
        {
            CheckLock(DatastoreName.Running, sessionId);
            _running = new XElement(_candidate);
        }
    }

    /// <summary>RFC 6241 §8.3.4.2: the candidate reverts to the running configuration.</summary>
    public void DiscardChanges(uint sessionId = 0)
    {
        lock (_gate)
        {
            CheckLock(DatastoreName.Candidate, sessionId);
            _candidate = new XElement(_running);
        }
    }

    public void LockDatastore(DatastoreName target, uint sessionId)
    {
        lock (_gate)
        {
            if (_locks.TryGetValue(target, out var holder))
                throw LockDenied(holder);
            _locks[target] = sessionId;
        }
    }

    public void UnlockDatastore(DatastoreName target, uint sessionId)
    {
        lock (_gate)
        {
            if (!_locks.TryGetValue(target, out var holder) || holder != sessionId)
                throw new NetconfRpcException(new RpcError(RpcErrorType.Protocol, "operation-failed", RpcErrorSeverity.Error, Message: "this session holds no lock on the target"));
            _locks.Remove(target);
        }
    }

    /// <summary>RFC 6241 §7.5: a session's locks go when it ends; call this when the channel closes.</summary>
    public void ReleaseLocks(uint sessionId)
    {
        lock (_gate)
        {
            foreach (var target in _locks.Where(l => l.Value == sessionId).Select(l => l.Key).ToList())
                _locks.Remove(target);
        }
    }

    public ValueTask<XElement?> HandleRpcAsync(NetconfRpcRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var op = request.Operation;
        if (op.Name.Namespace != Nc)
            throw NotSupported(op);
        XElement? result = null;
        switch (op.Name.LocalName)
        {
            case "get-config":
                result = GetConfig(Datastore(op, "source"), Filter(op));
                break;
            case "get":
                // No operational state in memory: get returns the running configuration (RFC 6241 §7.7).
                result = GetConfig(DatastoreName.Running, Filter(op));
                break;
            case "edit-config":
                if (op.Element(Nc + "url") is not null || op.Element(Nc + "config") is null)
                    throw NotSupported(op, "edit-config needs <config> (:url is not supported)");
                EditConfig(Datastore(op, "target"), op.Element(Nc + "config")!, DefaultOp(op), request.SessionId);
                break;
            case "commit":
                if (op.HasElements)
                    throw NotSupported(op, "confirmed commit is not supported");
                Commit(request.SessionId);
                break;
            case "discard-changes":
                DiscardChanges(request.SessionId);
                break;
            case "lock":
                LockDatastore(Datastore(op, "target"), request.SessionId);
                break;
            case "unlock":
                UnlockDatastore(Datastore(op, "target"), request.SessionId);
                break;
            default:
                throw NotSupported(op);
        }
        return ValueTask.FromResult(result);
    }

    private void CheckLock(DatastoreName target, uint sessionId)
    {
        if (_locks.TryGetValue(target, out var holder) && holder != sessionId)
            throw LockDenied(holder);
    }

    private static NetconfRpcException LockDenied(uint holder) =>
        new(new RpcError(RpcErrorType.Protocol, "lock-denied", RpcErrorSeverity.Error, Message: "the datastore is locked by another session",
            Info: new XElement(Nc + "error-info", new XElement(Nc + "session-id", holder))));

    private static DatastoreName Datastore(XElement op, string parameter)
    {
        var holder = op.Element(Nc + parameter)
            ?? throw new NetconfRpcException(new RpcError(RpcErrorType.Protocol, "missing-element", RpcErrorSeverity.Error, Message: $"<{parameter}> is required",
                Info: new XElement(Nc + "error-info", new XElement(Nc + "bad-element", parameter))));
        var names = holder.Elements().Select(e => e.Name).ToList();
        if (names.Count == 1 && names[0] == Nc + "running")
            return DatastoreName.Running;
        if (names.Count == 1 && names[0] == Nc + "candidate")
            return DatastoreName.Candidate;
        throw new NetconfRpcException(new RpcError(RpcErrorType.Protocol, "invalid-value", RpcErrorSeverity.Error, Message: $"<{parameter}> must name running or candidate",
            Info: new XElement(Nc + "error-info", new XElement(Nc + "bad-element", parameter))));
    }

    private static XElement? Filter(XElement op)
    {
        if (op.Element(Nc + "filter") is not { } filter)
            return null;
        var type = filter.Attribute("type")?.Value ?? "subtree";
        return type == "subtree" ? filter : throw NotSupported(op, $"filter type '{type}' is not supported (subtree only)");
    }

    private static DefaultOperation DefaultOp(XElement op) => op.Element(Nc + "default-operation")?.Value.Trim() switch
    {
        null or "merge" => DefaultOperation.Merge,
        "replace" => DefaultOperation.Replace,
        "none" => DefaultOperation.None,
        _ => throw new NetconfRpcException(new RpcError(RpcErrorType.Protocol, "invalid-value", RpcErrorSeverity.Error, Message: "default-operation must be merge, replace or none")),
    };

    private static NetconfRpcException NotSupported(XElement op, string? why = null) =>
        new(new RpcError(RpcErrorType.Protocol, "operation-not-supported", RpcErrorSeverity.Error, Message: why ?? $"<{op.Name.LocalName}> is not supported"));
}
