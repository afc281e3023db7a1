// The logged-in user's role, for hiding what a read-only user cannot do.
import { createContext, useContext } from 'react';
import type { Role } from './api';

export const SessionContext = createContext<{ role: Role; name?: string }>({ role: 'ro' });

export function useCanWrite(): boolean {
  return useContext(SessionContext).role === 'rw';
}
