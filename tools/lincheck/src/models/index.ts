// The models a JSON history's header line can name ({"model": "kv"}). The other formats imply theirs.

import type { Model } from "../model.ts";
import { kvModel } from "./kv.ts";
import { registerModel } from "./register.ts";

/** The models a history file can name. */
export const models: Readonly<Record<string, Model>> = {
  kv: kvModel,
  register: registerModel,
};

export function modelNamed(name: string): Model | undefined {
  return Object.hasOwn(models, name) ? models[name] : undefined;
}
