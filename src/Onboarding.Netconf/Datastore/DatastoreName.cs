namespace Onboarding.Netconf.Datastore;

/// <summary>RFC 6241 §5.1 configuration datastores this library addresses (startup is not supported).</summary>
public enum DatastoreName
{
    Running,
    Candidate,
}

/// <summary>RFC 6241 §7.2 edit-config default-operation.</summary>
public enum DefaultOperation
{
    Merge,
    Replace,
    None,
}

/// <summary>RFC 6241 §7.2 operation attribute values.</summary>
public enum EditOperation
{
    Merge,
    Replace,
    Create,
    Delete,
    Remove,
    None,
}
