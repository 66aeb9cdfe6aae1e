-- Argo CD health of a tributary.dev/v1alpha1 Integration.
--
-- The operator writes kstatus-style conditions (docs/operations.md, "Reading status"): Ready is
-- the normal-true summary and, when False, carries the most important problem as its reason;
-- Reconciling (a run in progress, a retry pending, the first run awaited) and Stalled (a human is
-- needed) are present only while true. First match wins:
--
--   metadata.deletionTimestamp set          Progressing  Argo CD's standard deletion block
--   spec.suspend is true                    Suspended    message of the Suspended condition
--   no status, or status.observedGeneration Progressing  the operator has not acted on this spec
--     below metadata.generation
--   Stalled=True                            Degraded     InvalidSpec, PolicyNotFound, SecretNotFound,
--                                                        AuthenticationFailed, ConfigurationError,
--                                                        NotFound, RetriesExhausted, JobRejected,
--                                                        ImagePullFailed, PodUnschedulable, ...;
--                                                        no run starts until a fix or the probe
--   Ready=True                              Healthy      also while a routine sync runs, while a
--                                                        failed attempt is retried on fresh data
--                                                        (Synced=False: a blip) and with
--                                                        Deprecated=True: the operator keeps Ready
--                                                        True then, and Ready is the summary
--   Ready=False and (Synced=True or         Degraded     the last sync succeeded but Drifted, Stale or
--     Stale=True)                                        Degraded (quarantine) made Ready False, or
--                                                        syncs keep failing past freshness.maxAge; a
--                                                        run or retry in progress does not change
--                                                        that, so health does not flap to Progressing
--                                                        on every scheduled sync
--   Reconciling=True                        Progressing  first run, or a retryable failure whose next
--                                                        attempt is scheduled or running
--   Ready=False                             Degraded     a failed sync with no run or retry pending
--   otherwise (Ready absent or Unknown)     Progressing
--
-- The message is that of the condition that decided; Ready's when it is False, as the operator
-- writes there what failed and what happens next ("attempt 1 failed: ...; attempt 2 starts at ...").
-- Runs with Argo CD's default libraries (base, table, os): no string or math functions.

-- Surface deletion progress while the resource is terminating. You can customize this
-- block, e.g. map known finalizers in obj.metadata.finalizers to clearer messages.
if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  local deletionHs = {}
  deletionHs.status = "Progressing"
  deletionHs.message = "Pending deletion"
  if obj.metadata.finalizers ~= nil and #obj.metadata.finalizers > 0 then
    deletionHs.message = "Pending deletion; blocked by finalizers: " .. table.concat(obj.metadata.finalizers, ", ")
  end
  return deletionHs
end

local function findCondition(conditions, conditionType)
  for _, condition in ipairs(conditions) do
    if condition.type == conditionType then
      return condition
    end
  end
  return nil
end

local function isTrue(condition)
  return condition ~= nil and condition.status == "True"
end

local function verdict(status, condition)
  local message = ""
  if condition ~= nil and condition.message ~= nil then
    message = condition.message
  end
  return { status = status, message = message }
end

local hs = {}
local status = obj.status
local conditions = {}
if status ~= nil and status.conditions ~= nil then
  conditions = status.conditions
end

if obj.spec ~= nil and obj.spec.suspend == true then
  local suspended = findCondition(conditions, "Suspended")
  if isTrue(suspended) then
    return verdict("Suspended", suspended)
  end
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: no new runs start"
  return hs
end

local generation = tonumber(obj.metadata.generation)
local observed = nil
if status ~= nil then
  observed = tonumber(status.observedGeneration)
end
if observed == nil or #conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end
if generation ~= nil and observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation) ..
    " (status is of generation " .. tostring(observed) .. ")"
  return hs
end

local ready = findCondition(conditions, "Ready")
local stalled = findCondition(conditions, "Stalled")
local reconciling = findCondition(conditions, "Reconciling")

if isTrue(stalled) then
  return verdict("Degraded", stalled)
end
if isTrue(ready) then
  return verdict("Healthy", ready)
end
local notReady = ready ~= nil and ready.status == "False"
if notReady and (isTrue(findCondition(conditions, "Synced")) or isTrue(findCondition(conditions, "Stale"))) then
  return verdict("Degraded", ready)
end
if isTrue(reconciling) then
  -- Ready's message says what failed as well as what happens next.
  if notReady then
    return verdict("Progressing", ready)
  end
  return verdict("Progressing", reconciling)
end
if notReady then
  return verdict("Degraded", ready)
end
hs.status = "Progressing"
hs.message = "Waiting for the Ready condition"
return hs
