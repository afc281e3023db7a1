// Public entry of the network XML layer: parseNetwork / formatNetwork and the NetworkDef model.
export * from './network-def.js';
export {
  type FormatNetworkOptions,
  formatNetwork,
  networkSetBridgeMac,
  type ParseNetworkOptions,
  parseNetwork,
  postParseNetwork,
} from './network.js';
export { ipSubnet, validateNetwork } from './validate.js';
