env.put("DEPLOY_TOKEN", "vd2HCns2ZblSde319VV77CoftR4VapDs");
