/**
 * The pod annotations kwok's stages read, and a kwok stage of this project's own, next to the module's verbatim ones: a Job's pod on a kwok
 * Node that carries {@link TERMINATION_MESSAGE_ANNOTATION} Succeeds with that text as its
 * container's termination message, as a real run's container writes its result there. The
 * module's general pod-complete stage leaves the message empty, which Tributary rightly records
 * as a run without a result. The pod also sets the general stage's weight to 0, so kwok plays
 * this stage alone; the delay comes from the same annotations ({@link podCompleteAnnotations}).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The pod annotation that sets how long after Running a Job's pod Succeeds (kwok's stage). */
export const POD_COMPLETE_DELAY_ANNOTATION = 'pod-complete.stage.kwok.x-k8s.io/delay';
/** The pod annotation that bounds that delay's random jitter (see {@link podCompleteAnnotations}). */
export const POD_COMPLETE_JITTER_ANNOTATION = 'pod-complete.stage.kwok.x-k8s.io/jitter-delay';

/**
 * Annotations that make a Job's pod on a kwok Node Succeed `afterMs` after it is Running. Both
 * are set: kwok draws the delay between `delay` and `jitter-delay`, the latter defaulting to 5 s,
 * and takes the jitter alone when it is the smaller — a `delay` above 5 s alone would give 5 s.
 */
export function podCompleteAnnotations(afterMs: number): Record<string, string> {
  const value = `${Math.max(0, Math.round(afterMs))}ms`;
  return { [POD_COMPLETE_DELAY_ANNOTATION]: value, [POD_COMPLETE_JITTER_ANNOTATION]: value };
}

/** The pod annotation whose value becomes the termination message of every container. */
export const TERMINATION_MESSAGE_ANNOTATION = 'kwok.tributary.dev/termination-message';
/** kwok's weight annotation of its general pod-complete stage. */
const GENERAL_WEIGHT_ANNOTATION = 'pod-complete.stage.kwok.x-k8s.io/weight';

/** Annotations that make a Job's pod on kwok Succeed after `afterMs` with `message`. */
export function podCompleteWithMessage(afterMs: number, message: string): Record<string, string> {
  return {
    ...podCompleteAnnotations(afterMs),
    [GENERAL_WEIGHT_ANNOTATION]: '0',
    [TERMINATION_MESSAGE_ANNOTATION]: message,
  };
}

/** The stage, as a kwok config document. */
const STAGE = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-complete-with-message
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.metadata.annotations["${TERMINATION_MESSAGE_ANNOTATION}"]'
      operator: 'Exists'
    - key: '.metadata.ownerReferences.[].kind'
      operator: 'In'
      values: ['Job']
  weight: 1
  delay:
    durationMilliseconds: 1000
    durationFrom:
      expressionFrom: '.metadata.annotations["${POD_COMPLETE_DELAY_ANNOTATION}"]'
    jitterDurationMilliseconds: 5000
    jitterDurationFrom:
      expressionFrom: '.metadata.annotations["${POD_COMPLETE_JITTER_ANNOTATION}"]'
  next:
    delete: false
    statusTemplate: |
      {{ $now := Now }}
      {{ $message := index .metadata.annotations "${TERMINATION_MESSAGE_ANNOTATION}" }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            message: {{ $message | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Succeeded
`;

/** Writes the stage into `home` (kwok's dir in the cluster dir); returns its path. */
export function writeResultStage(home: string): string {
  const path = join(home, 'stage-pod-complete-with-message.yaml');
  writeFileSync(path, STAGE);
  return path;
}
