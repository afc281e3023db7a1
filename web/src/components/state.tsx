// A guest's state as a coloured badge, and which actions each state allows.
import type { DomainAction, DomainStateName } from '../api';

export function StateBadge({ state, reason }: { state: DomainStateName; reason?: string }) {
  return (
    <span className={`state state-${state}`} title={reason ? `${state} (${reason})` : state}>
      {state}
    </span>
  );
}

export function isActive(state: DomainStateName): boolean {
  return state !== 'shutoff' && state !== 'crashed' && state !== 'nostate';
}

/** Whether an action makes sense in a state (the server decides; this only hides useless buttons). */
export function allowed(action: DomainAction, state: DomainStateName): boolean {
  switch (action) {
    case 'start':
      return !isActive(state);
    case 'resume':
      return state === 'paused';
    case 'suspend':
      return state === 'running' || state === 'blocked';
    default:
      return isActive(state);
  }
}

export const ACTION_LABELS: Record<DomainAction, string> = {
  start: 'Start',
  shutdown: 'Shut down',
  reboot: 'Reboot',
  reset: 'Reset',
  destroy: 'Force off',
  suspend: 'Pause',
  resume: 'Resume',
};

/** Actions that lose guest state: asked for confirmation. */
export const DESTRUCTIVE: DomainAction[] = ['destroy', 'reset'];
